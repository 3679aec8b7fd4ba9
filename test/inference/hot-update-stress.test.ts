// Hot update under load: traffic runs through the XDP program on both CPUs while the model is
// swapped 10,000 times. Every record must carry the verdict and score of exactly the model
// version it names (no torn read), and every flow must be classified (detection never pauses).
//
// Why a torn read cannot hide:
//  - Three models of one shape cycle through the versions (version v is model v % 3, in slot
//    v % 2), so each rewrite of a slot replaces its model by a different one. They differ in every
//    layer's weights and biases, in the shift b, and in every input's clamp, mean and std.
//  - Each record is checked against the TypeScript reference (inferInt32) of the model of its own
//    version, on its own features: verdict and score must match bit for bit, and the slot must be
//    the version's slot. An inference that ran some stages on one model and some on another, or
//    read a slot while it was being rewritten, gets a wrong score or no verdict (the rewrite first
//    invalidates the slot, and a stage that finds it invalid aborts the inference).
//  - The check is shown to be sensitive on the flows actually sent: for every distinct feature
//    vector and every ordered pair of models, every mix an interrupted inference can produce
//    (entry on the old model and the layers from any layer on from the new one; a half-copied
//    input scaling) is computed with the reference and must match none of the whole models.
//
// The swapper does exactly SWAPS swaps while the workers send flows until told to stop, so no
// assertion depends on how the two race. Swaps are only paced by the traffic (before a swap, some
// flow was classified since the previous one; the swapper waits at most PACE_MS for that), so that
// the versions spread over the flows however the CPUs happen to be shared.
//
// Negative control, a one-off command:
//   XIDS_STRESS_NEGATIVE=1 node_modules/.bin/bun test test/inference/hot-update-stress.test.ts -t negative
// runs the same stress with ActivateOptions.unsafeSkipQuiescence, which rewrites a slot right
// after the flip that retired it, without waiting for inferences still running on it, and
// asserts that it sees torn reads. It is not part of the suite because on this machine it cannot
// fail reliably: an XDP run is not preemptible, an inference takes ~4 us, and the rewrite of the
// retired slot starts >= ~200 us after the flip (activate() builds the slot image first), so an
// inference tears only when its CPU stalls in the middle of it for longer than that (a long
// interrupt, or the hypervisor taking the vCPU away), which depends on the host, not on the test.
// Runs made with this file as it is, on this 2-CPU VM while other suites were loading it (load
// average 4-7): torn reads per 10,000-swap unsafe run 5, 0, 5, 0, 9, 1, 3, 4, 2, 5, 4 (9 of 11
// runs detect them, 38 in all; most are a wrong score, some no verdict, e.g. "version 3200 slot 0
// verdict 2 score 7705320, model 2 says score=12001185"). Every safe run made meanwhile (more
// than a dozen of 10,000 swaps each) saw none. The safe test took 30-43 s here (load average 3-4).
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeRecord, FlowRecordStruct, Verdict } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { inferInt32, type Int32Result } from "../../models/mlp/int32.ts";
import { ModelSlots } from "../../plugins/models/kernel/model-slots.ts";
import { PinDir } from "../harness/bpffs.ts";
import { distinctMlps, inferMixed, tornMixes, type InputScale } from "./models.ts";

const SWAPS = 10_000;
const NEGATIVE = process.env.XIDS_STRESS_NEGATIVE === "1";
/** Longest wait, before a swap, for some flow to have been classified since the previous one. */
const PACE_MS = 2;
/** Bounds on each worker; the stop file ends them long before. */
const WORKER_MAX_FLOWS = 20_000_000;
const WORKER_MAX_MS = 100_000;
const RING_BYTES = 64 << 20;

// The features the stress traffic varies (one-packet TCP flows), with their typical value and
// spread: dst port, payload bytes, init window, PSH count, max and mean payload, header bytes, packets.
const INPUTS: InputScale[] = [
  { feature: 0, mean: 32768, std: 19000 },
  { feature: 3, mean: 700, std: 400 },
  { feature: 18, mean: 32768, std: 19000 },
  { feature: 13, mean: 0.5, std: 0.5 },
  { feature: 4, mean: 700, std: 400 },
  { feature: 6, mean: 700, std: 400 },
  { feature: 16, mean: 20, std: 10 },
  { feature: 2, mean: 2, std: 1 },
];
const MODELS = distinctMlps(2025, 3, INPUTS, [64, 64]);
const modelOf = (version: number) => version % MODELS.length;
// Version 1 goes into slot 1 (a fresh data plane has slot 0 active), and each swap writes the idle one.
const slotOf = (version: number) => version % 2;

const OFF = FlowRecordStruct.offsets;

/** The frame a record came from: stress-worker.ts gives each frame of its pool its own source
 *  address and port (and the pool is all the worker sends). */
function frameOf(dv: DataView): number {
  return dv.getUint32(OFF.src!, false) * 65536 + dv.getUint16(OFF.src_port!, true);
}

/** Every record's check, done as the records arrive (nothing is kept but counts). */
class Tally {
  records = 0;
  unclassified = 0;
  wrongResult = 0;
  wrongSlot = 0;
  badVersion = 0;
  readonly perWorker = [0, 0];
  /** seen[v]: some flow was classified by version v. */
  readonly seen: Uint8Array;
  /** The distinct model inputs of the flows, for the sensitivity check. */
  readonly inputs = new Map<string, number[]>();
  readonly examples: string[] = [];
  /** Per frame and model: the inputs its flows had and the reference result on them. */
  readonly #ref = new Map<number, { x: number[]; ref: Int32Result }>();
  readonly #x = new Array<number>(INPUTS.length);
  #decodeChecked = false;

  constructor(readonly maxVersion: number) {
    this.seen = new Uint8Array(maxVersion + 1);
  }

  get torn(): number {
    return this.unclassified + this.wrongResult + this.wrongSlot + this.badVersion;
  }

  get versionsSeen(): number {
    return this.seen.reduce((n, s) => n + s, 0);
  }

  add(raws: Uint8Array[]): void {
    for (const raw of raws) this.#one(raw);
  }

  // Reads only the fields it needs, at the FlowRecordStruct offsets (decodeRecord, which builds
  // all 22 features as bigints, would slow the swapper down); the first record is cross-checked.
  #one(raw: Uint8Array): void {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const verdict = dv.getUint8(OFF.verdict!), score = dv.getInt32(OFF.score!, true);
    const slot = dv.getUint8(OFF.model_slot!), version = dv.getUint32(OFF.model_version!, true);
    const x = this.#x;
    for (let i = 0; i < INPUTS.length; i++) {
      const o = OFF.features! + 8 * INPUTS[i]!.feature, hi = dv.getUint32(o + 4, true);
      // Exact as a double below 2^53; anything larger cannot come from this traffic.
      x[i] = hi < 2 ** 21 ? hi * 2 ** 32 + dv.getUint32(o, true) : NaN;
    }
    if (!this.#decodeChecked) {
      const r = decodeRecord(raw);
      expect([r.verdict, r.score, r.modelSlot, r.modelVersion, ...INPUTS.map((i) => Number(r.features[i.feature]))]).toEqual([verdict, score, slot, version, ...x]);
      this.#decodeChecked = true;
    }
    this.records++;
    this.perWorker[raw[OFF.src! + 2]! - 10]!++;
    if (verdict === Verdict.none) return this.#bad("unclassified", version, slot, verdict, score);
    if (version < 1 || version > this.maxVersion) return this.#bad("badVersion", version, slot, verdict, score);
    this.seen[version] = 1;
    if (slot !== slotOf(version)) return this.#bad("wrongSlot", version, slot, verdict, score);
    const ref = this.#reference(frameOf(dv) * MODELS.length + modelOf(version), modelOf(version), x);
    if ((verdict === Verdict.attack) !== ref.attack || score !== ref.score) this.#bad("wrongResult", version, slot, verdict, score, ref);
  }

  /** The reference result for these inputs, cached per frame and model: a frame's flows all have
   *  the same features, and the cache hit is taken only when they are equal. */
  #reference(key: number, model: number, x: number[]): Int32Result {
    const hit = this.#ref.get(key);
    if (hit && hit.x.every((v, i) => v === x[i])) return hit.ref;
    if (x.some(Number.isNaN)) throw new Error(`a feature beyond 2^53: ${x}`);
    const copy = x.slice(), ref = inferInt32(MODELS[model]!, copy);
    if (!hit) this.#ref.set(key, { x: copy, ref });
    this.inputs.set(copy.join(","), copy);
    return ref;
  }

  #bad(kind: "unclassified" | "badVersion" | "wrongSlot" | "wrongResult", version: number, slot: number, verdict: number, score: number, ref?: Int32Result): void {
    this[kind]++;
    if (this.examples.length < 5) {
      this.examples.push(`${kind}: version ${version} slot ${slot} verdict ${verdict} score ${score}${ref ? `, model ${modelOf(version)} says attack=${ref.attack} score=${ref.score}` : ""}`);
    }
  }
}

interface StressResult {
  tally: Tally;
  swapsDone: number;
  exitCodes: number[];
  sent: number[];
  lost: bigint;
  aborted: bigint;
  swapMs: number;
  totalMs: number;
}

async function stress(opts: { swaps: number; unsafe: boolean }): Promise<StressResult> {
  const t0 = performance.now();
  using pins = new PinDir("stress");
  // Alert-only: the traffic must keep flowing through the classifier, not get its sources blocked.
  using dp = DataPlane.load({ modelAction: "alert", ringBytes: RING_BYTES });
  const slots = new ModelSlots(dp.coll);
  await slots.activate({ kind: "mlp", params: MODELS[modelOf(1)]! }, 1);
  dp.xdp.pin(pins.join("xdp"));
  const tally = new Tally(opts.swaps + 1);
  const tmp = mkdtempSync(join(tmpdir(), "xids-stress-"));
  const stopFile = join(tmp, "stop"); // bpffs holds only BPF objects
  const workers = [0, 1].map((cpu) =>
    Bun.spawn(["taskset", "-c", String(cpu), process.execPath, join(import.meta.dir, "stress-worker.ts"), pins.join("xdp"), String(cpu), String(WORKER_MAX_FLOWS), String(WORKER_MAX_MS), stopFile], {
      stdout: "pipe", stderr: "pipe", timeout: WORKER_MAX_MS + 10_000,
    }),
  );
  let swapMs = 0, swapsDone = 0;
  try {
    // Both CPUs carry traffic before the first swap.
    const ready = performance.now() + 20_000;
    while (tally.perWorker.some((n) => n === 0)) {
      if (performance.now() > ready || workers.some((w) => w.exitCode !== null)) throw new Error(`workers did not start: ${tally.perWorker} flows`);
      tally.add(dp.events.consume());
      await Bun.sleep(1);
    }
    const activate = { unsafeSkipQuiescence: opts.unsafe };
    const s0 = performance.now();
    let before = tally.records;
    for (let v = 2; v <= opts.swaps + 1; v++) {
      // Paced by the traffic: some flow was classified since the last swap (normally many were,
      // while it ran, and nothing waits), so the versions spread over the flows even when the
      // workers get little CPU. The wait yields the CPU to them.
      tally.add(dp.events.consume());
      const until = performance.now() + PACE_MS;
      while (tally.records === before && performance.now() < until) {
        await Bun.sleep(0);
        tally.add(dp.events.consume());
      }
      before = tally.records;
      await slots.activate({ kind: "mlp", params: MODELS[modelOf(v)]! }, v, activate);
      swapsDone++;
    }
    swapMs = performance.now() - s0;
  } finally {
    writeFileSync(stopFile, "");
    await Promise.all(workers.map((w) => w.exited));
    rmSync(tmp, { recursive: true, force: true });
  }
  const exitCodes = workers.map((w) => w.exitCode ?? -1);
  const sent = await Promise.all(workers.map(async (w) => Number(await new Response(w.stdout).text())));
  const errors = await Promise.all(workers.map((w) => new Response(w.stderr).text()));
  if (errors.some((e) => e.trim())) console.error(errors.join("\n"));
  tally.add(dp.events.consume());
  return { tally, swapsDone, exitCodes, sent, lost: dp.counter("records_lost"), aborted: dp.counter("infer_aborted"), swapMs, totalMs: performance.now() - t0 };
}

function report(label: string, r: StressResult): void {
  const t = r.tally;
  console.log(
    `hot-update stress (${label}): ${r.swapsDone} swaps in ${(r.swapMs / 1000).toFixed(1)} s, ${t.records} flows (${t.perWorker.join(" + ")} on CPU 0 + 1), ` +
      `${t.versionsSeen} versions seen, torn ${t.torn} (unclassified ${t.unclassified}, wrong result ${t.wrongResult}, wrong slot ${t.wrongSlot}, bad version ${t.badVersion}), ` +
      `aborted ${r.aborted}, lost ${r.lost}, ${(r.totalMs / 1000).toFixed(1)} s in all`,
  );
  if (t.examples.length) console.log(`  first torn records:\n  ${t.examples.join("\n  ")}`);
}

/** Mixes of two models that an interrupted inference could produce, and how many of them would
 *  pass for a whole model on the same features. */
function tornMixesUndetected(inputs: Iterable<number[]>): { mixes: number; undetected: number } {
  const nIn = INPUTS.length, nLayers = MODELS[0]!.layers.length;
  let mixes = 0, undetected = 0;
  for (const x of inputs) {
    const whole = MODELS.map((m) => inferInt32(m, x));
    for (let i = 0; i < MODELS.length; i++) {
      for (let j = 0; j < MODELS.length; j++) {
        if (i === j) continue;
        for (const mix of tornMixes(nIn, nLayers, i, j)) {
          const r = inferMixed(MODELS, mix, x);
          mixes++;
          if (whole.some((w) => w.attack === r.attack && w.score === r.score)) undetected++;
        }
      }
    }
  }
  return { mixes, undetected };
}

test("10,000 hot swaps under two-CPU traffic: every record from one whole model", async () => {
  const r = await stress({ swaps: SWAPS, unsafe: false });
  report("safe", r);
  const t = r.tally;
  expect(r.exitCodes).toEqual([0, 0]);
  expect(r.swapsDone).toBe(SWAPS);
  // Every flow sent came back classified, by one whole model.
  expect(r.lost).toBe(0n);
  expect(t.perWorker).toEqual(r.sent);
  expect(t.unclassified).toBe(0);
  expect(r.aborted).toBe(0n);
  expect(t.examples).toEqual([]);
  expect(t.torn).toBe(0);
  // Traffic on both CPUs, spread over the versions.
  expect(Math.min(...r.sent)).toBeGreaterThan(1000);
  expect(t.versionsSeen).toBeGreaterThan(SWAPS / 2);

  // And the check would have caught a torn read on these very flows.
  const c0 = performance.now();
  const s = tornMixesUndetected(t.inputs.values());
  console.log(`hot-update stress: ${t.inputs.size} distinct feature vectors, ${s.mixes} torn mixes, ${s.undetected} would pass for a whole model (${((performance.now() - c0) / 1000).toFixed(1)} s)`);
  expect(t.inputs.size).toBeGreaterThan(1000);
  expect(s.undetected).toBe(0);
}, 150_000);

test.if(NEGATIVE)("negative control: without the quiescence wait the same run sees torn reads", async () => {
  const r = await stress({ swaps: SWAPS, unsafe: true });
  report("unsafe", r);
  expect(r.exitCodes).toEqual([0, 0]);
  expect(r.swapsDone).toBe(SWAPS);
  expect(r.lost).toBe(0n);
  expect(r.tally.perWorker).toEqual(r.sent);
  expect(r.tally.torn).toBeGreaterThan(0);
}, 150_000);
