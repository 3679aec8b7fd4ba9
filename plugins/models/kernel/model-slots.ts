// Hot update of the in-kernel model without a lock and without pausing detection.
//
// Two parameter slots and an index. An inference reads the index once (after marking its CPU
// busy with an atomic, i.e. a full barrier) and keeps that slot to the end. An update:
//   1. waits until the idle slot is quiescent: no CPU is still inside an inference that began
//      before the previous flip (each CPU's infer_state.seq is odd only during an inference);
//   2. writes the model into the idle slot;
//   3. validates it in the kernel: the same stages run on probe vectors under BPF_PROG_TEST_RUN
//      against the idle slot, and must match the TypeScript reference bit for bit;
//   4. flips the index. Inferences already running finish on the old slot.
// Back-to-back updates are safe because step 1 of the next update waits out step 4 of this one.
import { u32Key, type Collection } from "../../../native/index.ts";
import {
  CLASSIFIER_MAPS, CLASSIFIER_PROGRAMS, DT_MAX_NODES, DtNode, EVAL_ACTIVE_SLOT, InferState,
  MLP_MAX_LAYERS, MlpLayer, ModelIndex, ModelKind, ModelMeta, Stage,
} from "./abi.ts";
import { evalFeatures, type KernelEvalResult } from "./eval.ts";
import { slotImage, type KernelModel, type SlotImage } from "./slot-image.ts";

export class ModelValidationError extends Error {
  override name = "ModelValidationError";
}

export interface ActivateOptions {
  /** Feature vectors (NUM_FEATURES each) the kernel must classify exactly like `expected`. */
  probes?: bigint[][];
  /** The reference results for the probes (verdict and score), from the TypeScript oracle. */
  expected?: { attack: boolean; score: number }[];
  /** Longest wait for the idle slot to become quiescent. */
  quiesceTimeoutMs?: number;
  /**
   * TESTS ONLY: skips step 1 (the quiescence wait/check), so the idle slot may be rewritten while
   * a CPU is still inferring on it. Exists solely so test/inference/hot-update-stress.test.ts can
   * prove that it detects torn reads; never set it anywhere else.
   */
  unsafeSkipQuiescence?: boolean;
}

export interface SlotInfo {
  slot: number;
  kind: "none" | "mlp" | "dt" | "gbt";
  version: number;
}

export class ModelSlots {
  readonly #coll: Collection;
  #updates = 0;

  constructor(coll: Collection) {
    this.#coll = coll;
    // Wire the stages into the tail-call array (kept alive by the collection, or its pin).
    const progs = coll.map(CLASSIFIER_MAPS.progs);
    progs.setProgram(Stage.ENTRY, coll.program(CLASSIFIER_PROGRAMS.entry).fd);
    progs.setProgram(Stage.LAYER, coll.program(CLASSIFIER_PROGRAMS.layer).fd);
  }

  get activeSlot(): number {
    return ModelIndex.decode(this.#coll.map(CLASSIFIER_MAPS.index).lookup(u32Key(0))!).active_slot;
  }

  get updates(): number {
    return this.#updates;
  }

  info(slot = this.activeSlot): SlotInfo {
    const meta = ModelMeta.decode(this.#coll.map(CLASSIFIER_MAPS.meta).lookup(u32Key(slot))!);
    const kind = meta.kind === ModelKind.MLP ? "mlp" : meta.kind === ModelKind.DT ? "dt" : meta.kind === ModelKind.GBT ? "gbt" : "none";
    return { slot, kind, version: meta.version };
  }

  /** Validates, writes the idle slot, checks it in the kernel, then makes it active. */
  async activate(model: KernelModel, version: number, opts: ActivateOptions = {}): Promise<SlotInfo> {
    const image = slotImage(model, version); // throws before touching the kernel
    const idle = 1 - this.activeSlot;
    // Without the wait nothing here awaits: the rewrite follows the caller's previous flip at once.
    if (!opts.unsafeSkipQuiescence) await this.waitQuiescent(idle, opts.quiesceTimeoutMs ?? 1000);
    return this.#install(idle, image, model, version, opts);
  }

  /** The same, for callers that cannot wait (replay, start-up): the idle slot must already be
   *  quiescent, which it is whenever no traffic runs. */
  activateNow(model: KernelModel, version: number, opts: ActivateOptions = {}): SlotInfo {
    const image = slotImage(model, version);
    const idle = 1 - this.activeSlot;
    if (!opts.unsafeSkipQuiescence && !this.#quiescent(idle, this.#readSeqs())) throw new ModelValidationError(`slot ${idle} is in use; use activate() to wait for it`);
    return this.#install(idle, image, model, version, opts);
  }

  #install(idle: number, image: SlotImage, model: KernelModel, version: number, opts: ActivateOptions): SlotInfo {
    this.#write(idle, image);
    if (opts.probes?.length) this.#verify(idle, opts.probes, opts.expected ?? []);
    this.#coll.map(CLASSIFIER_MAPS.index).update(u32Key(0), ModelIndex.encode({ active_slot: idle, pad: 0 }));
    this.#updates++;
    return { slot: idle, kind: model.kind, version };
  }

  /** Turns in-kernel classification off (records go out with no verdict). */
  async deactivate(): Promise<void> {
    const idle = 1 - this.activeSlot;
    await this.waitQuiescent(idle, 1000);
    this.#coll.map(CLASSIFIER_MAPS.meta).update(u32Key(idle), ModelMeta.encode({ ...ModelMeta.zero(), kind: ModelKind.NONE }));
    this.#coll.map(CLASSIFIER_MAPS.index).update(u32Key(0), ModelIndex.encode({ active_slot: idle, pad: 0 }));
  }

  /**
   * Waits until no CPU can still be reading `slot`. Only inferences that started before the last
   * flip can use the idle slot; a CPU whose seq is even, or has moved on since we first looked,
   * has finished any such inference. XDP runs to completion, so this takes microseconds.
   */
  async waitQuiescent(slot: number, timeoutMs: number): Promise<void> {
    const first = this.#readSeqs();
    const deadline = performance.now() + timeoutMs;
    while (!this.#quiescent(slot, first)) {
      if (performance.now() > deadline) throw new ModelValidationError(`slot ${slot} stayed in use for ${timeoutMs} ms`);
      await Bun.sleep(0);
    }
  }

  /** Each CPU's seq and slot, read straight from the per-CPU bytes (nothing else is needed). */
  #readSeqs(): { seq: bigint; slot: number }[] {
    return this.#coll.map(CLASSIFIER_MAPS.state).lookupPerCpu(u32Key(0))!.map((v) => {
      const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
      return { seq: view.getBigUint64(InferState.offsets.seq!, true), slot: view.getUint32(InferState.offsets.slot!, true) };
    });
  }

  /** No CPU is still in an inference on `slot` that was already running when `first` was read. */
  #quiescent(slot: number, first: { seq: bigint; slot: number }[]): boolean {
    return !this.#readSeqs().some((s, cpu) => s.seq % 2n === 1n && s.seq === first[cpu]!.seq && s.slot === slot);
  }

  /** Runs feature vectors through the kernel classifier (the active slot unless told). */
  evaluate(features: bigint[][], slot: number = EVAL_ACTIVE_SLOT): KernelEvalResult[] {
    return evalFeatures(this.#coll, features, slot);
  }

  #write(slot: number, image: SlotImage): void {
    const meta = this.#coll.map(CLASSIFIER_MAPS.meta);
    // Invalidate first, so that a slot half-written by a crashed writer is never mistaken for a model.
    meta.update(u32Key(slot), ModelMeta.encode({ ...ModelMeta.zero(), kind: ModelKind.NONE }));
    const layers = this.#coll.map(CLASSIFIER_MAPS.layers);
    image.layers.forEach((L, l) => layers.update(u32Key(slot * MLP_MAX_LAYERS + l), MlpLayer.encode(L)));
    const nodes = this.#coll.map(CLASSIFIER_MAPS.nodes);
    image.nodes.forEach((n, i) => nodes.update(u32Key(slot * DT_MAX_NODES + i), DtNode.encode(n)));
    if (image.gbt) this.#coll.map(CLASSIFIER_MAPS.gbt).update(u32Key(slot), image.gbt);
    meta.update(u32Key(slot), ModelMeta.encode(image.meta));
  }

  #verify(slot: number, probes: bigint[][], expected: { attack: boolean; score: number }[]): void {
    if (expected.length !== probes.length) throw new ModelValidationError(`${probes.length} probes but ${expected.length} expected results`);
    const got = evalFeatures(this.#coll, probes, slot);
    got.forEach((g, i) => {
      const e = expected[i]!;
      if (g.slot !== slot) throw new ModelValidationError(`probe ${i} ran on slot ${g.slot}, not ${slot}`);
      if (g.attack !== e.attack || g.score !== e.score) {
        throw new ModelValidationError(`probe ${i}: kernel says attack=${g.attack} score=${g.score}, reference says attack=${e.attack} score=${e.score}; model not activated`);
      }
    });
  }
}
