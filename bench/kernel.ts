// In-kernel benchmarks: per-packet cost of xids against bare XDP programs, the classifier per
// flow, and the memory of a flow entry and a model slot. Every figure comes from
// BPF_PROG_TEST_RUN (durationNs = mean per repeat); each sample runs `repeat` times and the
// cases are interleaved sample by sample, so a noisy neighbour hits xids and its baseline alike.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Collection, type BpfMap, type Program } from "../native/index.ts";
import { DataPlane } from "../core/ebpf/dataplane.ts";
import { FlowRecordStruct, MAPS, SWEEP_MAGIC, SweepCmd, SweepMode } from "../core/ebpf/abi.ts";
import { CLASSIFIER_MAPS, EvalIo, MLP_MAX_LAYERS } from "../plugins/models/kernel/abi.ts";
import { kernelModelOf, probeVectors } from "../plugins/models/kernel/probes.ts";
import { slotImage, type KernelModel } from "../plugins/models/kernel/slot-image.ts";
import { ModelSlots } from "../plugins/models/kernel/model-slots.ts";
import { loadArtifact, type Int32Params } from "../models/index.ts";
import { F, frame } from "../test/dataplane/packets.ts";
import { median } from "./stats.ts";

const REPO = join(import.meta.dir, "..");
/** The own-sweep period the bench's data planes load with (see benchKernel's `common`). */
const OWN_SWEEP_CHECK_NS = 3_600_000_000_000n;
export const BASELINE_OBJECT = join(REPO, "bench", "bpf", "build", "baseline.bpf.o");
/** The data plane with the source context compiled out (bpf/Makefile VARIANTS). */
export const NO_CONTEXT_OBJECT = join(REPO, "bpf", "build", "xids-noctx.bpf.o");
/** The data plane with the first-payload scan compiled out (features 32..34 = 0). */
export const NO_SCAN_OBJECT = join(REPO, "bpf", "build", "xids-noscan.bpf.o");

/** The data plane cut off after a stage of the packet path (bpf/Makefile BENCH_STAGES,
 *  XIDS_BENCH_STAGE in xids.bpf.c): the cost breakdown runs the bench's frames through each. */
export const stageObject = (n: number): string => join(REPO, "bpf", "build", `xids-stage${n}.bpf.o`);

/** The stages, in program order; `drop`: on the blocked source's path (the drop happens in 2). */
export const BREAKDOWN_STAGES = [
  { stage: 0, name: "frame_len", label: "frame length (bpf_xdp_get_buff_len)", drop: true },
  { stage: 1, name: "parse_src", label: "parse to the source (Ethernet, VLAN, fixed IP header)", drop: true },
  { stage: 2, name: "block_list", label: "block list (one hash lookup; the drop)", drop: true },
  { stage: 3, name: "allow_list", label: "allow list (LPM lookup)", drop: false },
  { stage: 4, name: "parse_l4", label: "rest of the parse (IP lengths, L4 header)", drop: false },
  { stage: 5, name: "clock", label: "clock (bpf_ktime_get_ns)", drop: false },
  { stage: 6, name: "flow_lookup", label: "flow-table lookup (canonical key, LRU hash)", drop: false },
  { stage: 7, name: "flow_update", label: "flow update (timeouts, overflow rule, accumulators, end rules)", drop: false },
  { stage: 8, name: "counters", label: "counters (one per-CPU block, plain adds)", drop: true },
] as const;

/** One step of a breakdown: the variant's median, and what it adds to the step before it (the
 *  median of per-sample differences: cases of one sample run back to back). */
export interface BreakdownStep {
  name: string;
  label: string;
  ns: number;
  delta_ns: number;
}

export interface KernelOptions {
  /** BPF_PROG_TEST_RUN repeats per sample (>= 1e6 for the published figures). */
  repeat: number;
  /** Samples per case; the median is reported. */
  samples: number;
  log: (msg: string) => void;
}

export interface KernelResults {
  xdp_pass_ns: number;
  xdp_drop_ns: number;
  midflow_ns: number;
  /** The same packet with flow tracking off: parse, lists and counters only. */
  midflow_notrack_ns: number;
  flow_end_nomodel_ns: number;
  /** The same flow start and end with the source context compiled out. */
  flow_end_noctx_ns: number;
  /** A mid-flow packet with the source context compiled out (it must cost the same). */
  midflow_noctx_ns: number;
  /** What the source context adds to a flow start and end, and to a mid-flow packet: medians of
   * per-sample differences (the two objects run back to back in a sample), not differences of
   * medians, which carry the noise of both. */
  context_update_ns: number;
  midflow_context_ns: number;
  /** What the first-payload scan adds to a flow whose first payload fills the 512-byte window
   *  (paired with the same flow, scan compiled out), and to a mid-flow packet. */
  payload_scan_ns: number;
  midflow_scan_ns: number;
  flow_end_mlp_ns: number;
  flow_end_dt_ns: number;
  blocked_drop_ns: number;
  /** A source blocked with an expiry: the drop reads the clock to honour it. */
  blocked_drop_ttl_ns: number;
  /** Where the mid-flow packet's and the blocked source's time goes: bare program, each stage of
   *  the packet path, the shipped program (its last step: the flow-end tail calls, the own-sweep check). */
  breakdown_midflow: BreakdownStep[];
  breakdown_drop: BreakdownStep[];
  /** One own sweep of idle tables (every bucket of both flow tables and the block list walked). */
  own_sweep_ns: number;
  own_sweep_buckets: number;
  /** A SYN of a tracked connection, without the per-destination SYN limit and with it (admitted). */
  syn_midflow_ns: number;
  syn_limit_pass_ns: number;
  /** A SYN over the limit: dropped before it makes a flow. */
  syn_limit_drop_ns: number;
  eval_nomodel_ns: number;
  mlp_inference_ns: number;
  mlp6_inference_ns: number;
  /** The testbed's (and the example config's) model, models/artifacts/matrix-mlp, and its shape. */
  mlp_matrix_inference_ns: number;
  mlp_matrix_shape: number[];
  dt_inference_ns: number;
  dt_mean_depth: number;
  /** The boosted ensemble models/artifacts/matrix-gbt: classifier alone, and a whole flow end with it. */
  gbt_inference_ns: number;
  flow_end_gbt_ns: number;
  gbt_trees: number;
  gbt_nodes: number;
  /** Bytes the shipped ensemble uses of its slot, and what one gbt_slots value reserves. */
  gbt_slot_bytes: number;
  gbt_slot_alloc_bytes: number;
  flow_entry_bytes: number;
  flow6_entry_bytes: number;
  flow_entry_kernel_bytes: number | null;
  closed_entry_bytes: number;
  model_slot_bytes: number;
  model_slot_weights_bytes: number;
  mlp_shipped_slot_bytes: number;
  dt_slot_bytes: number;
  model_slot_alloc_bytes: number;
  /** every sample, for the report's spread */
  samples: Record<string, number[]>;
}

const SERVER = "198.18.0.2";
const CLIENT = "198.18.0.1";
const BLOCKED = "198.18.0.66";
const BLOCKED_TTL = "198.18.0.67";

/** The paper's shape: [6, 32, 32, 2] with seeded random int32 parameters (timing only). */
export function randomMlp(shape = [6, 32, 32, 2], seed = 0xb3c4): Int32Params {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const int = (lo: number, hi: number) => Math.floor(lo + next() * (hi - lo));
  const nIn = shape[0]!;
  const b = 10;
  return {
    features: Array.from({ length: nIn }, (_, i) => [0, 1, 2, 3, 12, 18][i] ?? i),
    xmax: Array.from({ length: nIn }, () => 2 ** 31),
    mean_q: Array.from({ length: nIn }, () => int(0, 1 << 20)),
    std_q: Array.from({ length: nIn }, () => int(1 << 10, 1 << 24)),
    b,
    layers: shape.slice(1).map((out, l) => {
      const inn = shape[l]!;
      return {
        in: inn,
        out,
        w_q: Int32Array.from({ length: inn * out }, () => int(-(1 << b), 1 << b)),
        bias_q: Int32Array.from({ length: out }, () => int(-(1 << b), 1 << b)),
      };
    }),
  };
}

/** Bytes the kernel charges for a map (fdinfo "memlock", map_mem_usage on 6.x), or null. */
function mapMemlock(m: BpfMap): number | null {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${m.fd}`, "utf8");
    const hit = /^memlock:\s+(\d+)/m.exec(info);
    return hit ? Number(hit[1]) : null;
  } catch {
    return null;
  }
}

function dtDepths(km: KernelModel, rows: bigint[][]): number {
  if (km.kind !== "dt") return 0;
  const t = km.tree;
  let total = 0;
  for (const x of rows) {
    let i = 0;
    while (t.feature[i] !== -1) {
      i = x[km.features[t.feature[i]!]!]! <= BigInt(t.threshold[i]!) ? t.left[i]! : t.right[i]!;
      total++;
    }
  }
  return total / rows.length;
}

/** One case: a function that runs one sample and returns ns per run. */
type Case = { name: string; run: () => number };

export async function benchKernel(opts: KernelOptions): Promise<KernelResults> {
  const { repeat, samples, log } = opts;
  const mlp = loadArtifact(join(REPO, "models", "artifacts", "mlp-int32"));
  const dt = loadArtifact(join(REPO, "models", "artifacts", "dt"));
  const kmMlp = kernelModelOf(mlp);
  const kmMatrix = kernelModelOf(loadArtifact(join(REPO, "models", "artifacts", "matrix-mlp")));
  const kmDt = kernelModelOf(dt);
  const kmGbt = kernelModelOf(loadArtifact(join(REPO, "models", "artifacts", "matrix-gbt")));
  const kmMlp6: KernelModel = { kind: "mlp", params: randomMlp() };

  // A round of flow-end runs fills at most half the ring (a record and its 8-byte header each;
  // records grew with the source context, so the round follows their size).
  const ringBytes = 1 << 24;
  const round = Math.min(repeat, Math.floor(ringBytes / (FlowRecordStruct.size + 8) / 2));
  // The agent's own-sweep check (dataplane.kernel_sweep_ms) runs on every packet that ends no flow.
  // Its period here is an hour, so the measured packets pay the check and never a sweep (one
  // falls due at most once, on a setup packet): a sweep is a cost per period, not per packet, and
  // charging one to the next 10^5 packets of a case made "mid-flow" 30-120 ns dearer at random.
  // The sweep itself is its own case (own_sweep).
  const common = { ringBytes, modelAction: "alert" as const, selfSweepNs: OWN_SWEEP_CHECK_NS };
  const disposables: { close(): void }[] = [];
  try {
    const base = Collection.load(BASELINE_OBJECT);
    disposables.push(base);
    const pass = base.program("bench_xdp_pass");
    const drop = base.program("bench_xdp_drop");

    // dpA: shipped MLP active in slot 1, slot 0 empty (the eval baseline). Mid-flow, blocked,
    // flow end with the MLP. dpB: [6,32,32,2] in slot 1, the tree in slot 0 (active).
    // dpC: no model at all (flow end without inference).
    const dpA = DataPlane.load(common);
    disposables.push(dpA);
    const dpB = DataPlane.load(common);
    disposables.push(dpB);
    const dpC = DataPlane.load(common);
    disposables.push(dpC);
    const dpD = DataPlane.load({ ...common, trackFlows: false });
    disposables.push(dpD);
    const dpE = DataPlane.load({ ...common, object: NO_CONTEXT_OBJECT });
    disposables.push(dpE);
    // The SYN limit: so high every SYN is admitted (its bookkeeping is the cost), and 1/s (all dropped).
    const dpF = DataPlane.load({ ...common, synLimitPerSecond: 1_000_000_000 });
    disposables.push(dpF);
    const dpG = DataPlane.load({ ...common, synLimitPerSecond: 1 });
    disposables.push(dpG);
    // The breakdown's variants: same settings (a small ring: no flow ends on their frames).
    const stageDps = BREAKDOWN_STAGES.map((st) => {
      const dp = DataPlane.load({ ...common, ringBytes: 1 << 16, object: stageObject(st.stage) });
      disposables.push(dp);
      return dp;
    });
    // dpJ: the first-payload scan compiled out (its flows' cost beside dpC's).
    const dpJ = DataPlane.load({ ...common, object: NO_SCAN_OBJECT });
    disposables.push(dpJ);
    new ModelSlots(dpE.coll);
    new ModelSlots(dpJ.coll);
    const slotsA = new ModelSlots(dpA.coll);
    const slotsB = new ModelSlots(dpB.coll);
    new ModelSlots(dpC.coll);
    const a = slotsA.activateNow(kmMlp, 1);
    const b6 = slotsB.activateNow(kmMlp6, 1);
    const bDt = slotsB.activateNow(kmDt, 2);
    log(`models: mlp-int32 slot ${a.slot} (dpA), mlp[6,32,32,2] slot ${b6.slot} and dt slot ${bDt.slot} (dpB)`);
    // dpH: matrix-mlp in slot 1 (its eval beside dpA's empty slot: the same program).
    const dpH = DataPlane.load(common);
    disposables.push(dpH);
    const hMatrix = new ModelSlots(dpH.coll).activateNow(kmMatrix, 1);
    // dpI: the boosted ensemble (matrix-gbt) in slot 1.
    const dpI = DataPlane.load(common);
    disposables.push(dpI);
    const iGbt = new ModelSlots(dpI.coll).activateNow(kmGbt, 1);

    // Frames: a data packet in the middle of a flow, a flow-ending FIN (with payload, so the
    // default tail absorption never treats the next repeat as the tail of the previous one), a
    // packet from a blocked source.
    // (No PSH on the mid-flow packet: the 16-bit PSH counter would end the flow every 65,535 runs.)
    const ack = frame({ src: CLIENT, dst: SERVER, proto: "tcp", sport: 40001, dport: 443, flags: F.ACK, payload: 64 });
    const syn = frame({ src: CLIENT, dst: SERVER, proto: "tcp", sport: 40001, dport: 443, flags: F.SYN });
    const fin = frame({ src: CLIENT, dst: SERVER, proto: "tcp", sport: 40002, dport: 443, flags: F.FIN | F.ACK | F.PSH, payload: 64 });
    // A flow whose first payload fills the scan window (FIN: every repeat is a new flow).
    const finFull = frame({ src: CLIENT, dst: SERVER, proto: "tcp", sport: 40004, dport: 80, flags: F.FIN | F.ACK | F.PSH, payload: 600 });
    const blockedPkt = frame({ src: BLOCKED, dst: SERVER, proto: "tcp", sport: 40003, dport: 443, flags: F.ACK | F.PSH, payload: 64 });
    const blockedTtlPkt = frame({ src: BLOCKED_TTL, dst: SERVER, proto: "tcp", sport: 40003, dport: 443, flags: F.ACK | F.PSH, payload: 64 });
    if (dpA.xdp.testRun({ data: syn }).retval !== 2) throw new Error("SYN did not pass");
    if (dpE.xdp.testRun({ data: syn }).retval !== 2) throw new Error("SYN did not pass (no context)");
    if (dpJ.xdp.testRun({ data: syn }).retval !== 2) throw new Error("SYN did not pass (no scan)");
    if (dpF.xdp.testRun({ data: syn }).retval !== 2) throw new Error("SYN under the limit did not pass");
    for (let i = 0; i < 3; i++) dpG.xdp.testRun({ data: syn });
    if (dpG.xdp.testRun({ data: syn }).retval !== 1) throw new Error("SYN over the limit was not dropped");
    dpA.block(BLOCKED);
    dpA.block(BLOCKED_TTL, { ttlNs: 3_600_000_000_000n });
    if (dpA.xdp.testRun({ data: blockedPkt }).retval !== 1) throw new Error("blocked source was not dropped");
    if (dpA.xdp.testRun({ data: blockedTtlPkt }).retval !== 1) throw new Error("blocked source (ttl) was not dropped");
    dpA.drain(() => {});
    for (const dp of stageDps) {
      dp.xdp.testRun({ data: syn }); // opens the flow (the variants from stage 6 on track it)
      dp.block(BLOCKED);
      dp.xdp.testRun({ data: blockedPkt }); // its first drop (first_drop_ns written once)
    }

    const simple = (p: Program, data: Uint8Array, want: number) => () => {
      const r = p.testRun({ data, repeat });
      if (r.retval !== want) throw new Error(`${p.name}: XDP action ${r.retval}, expected ${want}`);
      return r.durationNs;
    };
    // Flow-end cases: rounds that fit in the ring, drained in between; the sample is the mean
    // over all its repeats. Each repeat creates a flow, ends it, classifies it, emits a record.
    const flowEnd = (dp: DataPlane, data = fin) => () => {
      let ns = 0;
      let done = 0;
      while (done < repeat) {
        const n = Math.min(round, repeat - done);
        const r = dp.xdp.testRun({ data, repeat: n });
        if (r.retval !== 2) throw new Error(`flow end: XDP action ${r.retval}`);
        ns += r.durationNs * n;
        done += n;
        const recs = dp.events.consume();
        if (recs.length < n) throw new Error(`flow end: ${recs.length} records for ${n} runs (ring lost some?)`);
      }
      return ns / repeat;
    };
    // Classifier alone: xids_classify_eval over 8 typical feature vectors, model slot vs empty.
    const rows = probeVectors(18).slice(2, 10);
    const evalCase = (dp: DataPlane, slot: number) => {
      const prog = dp.coll.program("xids_classify_eval");
      const ios = rows.map((features) => EvalIo.encode({ ...EvalIo.zero(), slot, features }));
      const per = Math.max(1, Math.floor(repeat / ios.length));
      return () => {
        let ns = 0;
        for (const io of ios) {
          const r = prog.testRun({ data: io, repeat: per });
          if (r.retval !== 2) throw new Error(`eval slot ${slot}: XDP action ${r.retval}`);
          ns += r.durationNs;
        }
        return ns / ios.length;
      };
    };
    // One own sweep: the walk a packet tail-calls once per dataplane.kernel_sweep_ms (both flow
    // tables and the block list, every bucket; here nothing has expired, so it ends no flow).
    // xids_sweep runs the same walk (sweep_flows, expire_blocks) on a command frame.
    const sweepCmd = SweepCmd.encode({ magic: SWEEP_MAGIC, mode: SweepMode.expire, max_records: 0, blocks: 1, visited: 0, ended: 0, blocks_expired: 0, pad: 0 });
    const ownSweep = () => {
      const n = Math.max(1, Math.floor(repeat / 1000));
      const r = dpA.sweeper.testRun({ data: sweepCmd, repeat: n });
      if (r.retval !== 2) throw new Error(`xids_sweep returned ${r.retval}`);
      return r.durationNs;
    };
    const emptySlot = 1 - a.slot;
    const cases: Case[] = [
      { name: "xdp_pass", run: simple(pass, ack, 2) },
      { name: "midflow", run: simple(dpA.xdp, ack, 2) },
      { name: "midflow_notrack", run: simple(dpD.xdp, ack, 2) },
      { name: "xdp_drop", run: simple(drop, blockedPkt, 1) },
      { name: "blocked_drop", run: simple(dpA.xdp, blockedPkt, 1) },
      { name: "blocked_drop_ttl", run: simple(dpA.xdp, blockedTtlPkt, 1) },
      ...BREAKDOWN_STAGES.map((st, i) => ({ name: `stage_midflow_${st.name}`, run: simple(stageDps[i]!.xdp, ack, 2) })),
      // Before the block list (stages 0, 1) the blocked source's packet passes.
      ...BREAKDOWN_STAGES.flatMap((st, i) => (st.drop ? [{ name: `stage_drop_${st.name}`, run: simple(stageDps[i]!.xdp, blockedPkt, st.stage < 2 ? 2 : 1) }] : [])),
      { name: "syn_midflow", run: simple(dpA.xdp, syn, 2) },
      { name: "syn_limit_pass", run: simple(dpF.xdp, syn, 2) },
      { name: "syn_limit_drop", run: simple(dpG.xdp, syn, 1) },
      { name: "flow_end_nomodel", run: flowEnd(dpC) },
      { name: "flow_end_noctx", run: flowEnd(dpE) },
      { name: "midflow_noctx", run: simple(dpE.xdp, ack, 2) },
      { name: "flow_end_scan_window", run: flowEnd(dpC, finFull) },
      { name: "flow_end_noscan", run: flowEnd(dpJ, finFull) },
      { name: "midflow_noscan", run: simple(dpJ.xdp, ack, 2) },
      { name: "flow_end_mlp", run: flowEnd(dpA) },
      { name: "flow_end_dt", run: flowEnd(dpB) },
      { name: "flow_end_gbt", run: flowEnd(dpI) },
      { name: "own_sweep", run: ownSweep },
      { name: "eval_nomodel", run: evalCase(dpA, emptySlot) },
      { name: "eval_mlp", run: evalCase(dpA, a.slot) },
      { name: "eval_mlp6", run: evalCase(dpB, b6.slot) },
      { name: "eval_mlp_matrix", run: evalCase(dpH, hMatrix.slot) },
      { name: "eval_dt", run: evalCase(dpB, bDt.slot) },
      { name: "eval_gbt", run: evalCase(dpI, iGbt.slot) },
    ];
    const got: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
    for (let s = 0; s < samples; s++) {
      // Rotate the order so no case always runs right after a given other one.
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + s) % cases.length]!;
        got[c.name]!.push(c.run());
      }
      log(`kernel sample ${s + 1}/${samples}: pass ${got.xdp_pass!.at(-1)!.toFixed(1)} ns, midflow ${got.midflow!.at(-1)!.toFixed(1)} ns, flow end+mlp ${got.flow_end_mlp!.at(-1)!.toFixed(1)} ns`);
      await Bun.sleep(0);
    }
    // No measured packet ran a sweep (one may have fallen due on a setup packet): else its walk
    // would be inside some case's figure.
    for (const dp of disposables) {
      if (!(dp instanceof DataPlane)) continue;
      const sweeps = dp.counter("self_sweeps");
      if (sweeps > 1n) throw new Error(`bench: ${sweeps} own sweeps ran on measured packets (the period is ${OWN_SWEEP_CHECK_NS} ns)`);
    }
    const m = (k: string) => median(got[k]!);
    // Inference per flow: difference of medians, and the median of per-sample differences agree
    // closely; the per-sample difference pairs measurements taken back to back.
    const paired = (k: string, base: string) => median(got[k]!.map((v, i) => v - got[base]![i]!));
    const diff = (k: string) => Math.max(0, median(got[k]!.map((v, i) => v - got.eval_nomodel![i]!)));
    const breakdown = (bare: string, bareLabel: string, path: "midflow" | "drop", shipped: string): BreakdownStep[] => {
      const steps = [
        { name: "bare", label: bareLabel, key: bare },
        ...BREAKDOWN_STAGES.filter((st) => path === "midflow" || st.drop).map((st) => ({ name: st.name, label: st.label, key: `stage_${path}_${st.name}` })),
        { name: "shipped", label: "shipped program (+ flow-end tail calls, own-sweep check)", key: shipped },
      ];
      return steps.map((st, i) => ({
        name: st.name,
        label: st.label,
        ns: m(st.key),
        delta_ns: i === 0 ? 0 : median(got[st.key]!.map((v, j) => v - got[steps[i - 1]!.key]![j]!)),
      }));
    };

    // Memory.
    const f4 = dpA.coll.map(MAPS.flows4);
    const f6 = dpA.coll.map(MAPS.flows6);
    const closed4 = dpA.coll.map("closed4");
    const memlock = mapMemlock(f4);
    const img6 = slotImage(kmMlp6, 1);
    const imgMlp = slotImage(kmMlp, 1);
    const imgDt = slotImage(kmDt, 1);
    const meta = dpA.coll.map(CLASSIFIER_MAPS.meta);
    const layers = dpA.coll.map(CLASSIFIER_MAPS.layers);
    const weights6 = img6.paramBytes - 8 * 3 * kmMlp6.params.features.length;
    return {
      xdp_pass_ns: m("xdp_pass"),
      xdp_drop_ns: m("xdp_drop"),
      midflow_ns: m("midflow"),
      midflow_notrack_ns: m("midflow_notrack"),
      flow_end_nomodel_ns: m("flow_end_nomodel"),
      flow_end_noctx_ns: m("flow_end_noctx"),
      context_update_ns: paired("flow_end_nomodel", "flow_end_noctx"),
      midflow_context_ns: paired("midflow", "midflow_noctx"),
      midflow_noctx_ns: m("midflow_noctx"),
      payload_scan_ns: paired("flow_end_scan_window", "flow_end_noscan"),
      midflow_scan_ns: paired("midflow", "midflow_noscan"),
      flow_end_mlp_ns: m("flow_end_mlp"),
      flow_end_dt_ns: m("flow_end_dt"),
      blocked_drop_ns: m("blocked_drop"),
      blocked_drop_ttl_ns: m("blocked_drop_ttl"),
      breakdown_midflow: breakdown("xdp_pass", "bare XDP_PASS", "midflow", "midflow"),
      breakdown_drop: breakdown("xdp_drop", "bare XDP_DROP", "drop", "blocked_drop"),
      own_sweep_ns: m("own_sweep"),
      own_sweep_buckets: f4.maxEntries + f6.maxEntries + dpA.coll.map(MAPS.blocklist).maxEntries,
      syn_midflow_ns: m("syn_midflow"),
      syn_limit_pass_ns: m("syn_limit_pass"),
      syn_limit_drop_ns: m("syn_limit_drop"),
      eval_nomodel_ns: m("eval_nomodel"),
      mlp_inference_ns: diff("eval_mlp"),
      mlp6_inference_ns: diff("eval_mlp6"),
      mlp_matrix_inference_ns: diff("eval_mlp_matrix"),
      mlp_matrix_shape: kmMatrix.kind === "mlp" ? [kmMatrix.params.features.length, ...kmMatrix.params.layers.map((L) => L.out)] : [],
      dt_inference_ns: diff("eval_dt"),
      dt_mean_depth: dtDepths(kmDt, rows),
      gbt_inference_ns: diff("eval_gbt"),
      flow_end_gbt_ns: m("flow_end_gbt"),
      gbt_trees: kmGbt.kind === "gbt" ? kmGbt.ensemble.trees : 0,
      gbt_nodes: kmGbt.kind === "gbt" ? kmGbt.ensemble.feature.length : 0,
      gbt_slot_bytes: slotImage(kmGbt, 1).paramBytes,
      gbt_slot_alloc_bytes: dpI.coll.map(CLASSIFIER_MAPS.gbt).valueSize,
      flow_entry_bytes: f4.keySize + f4.valueSize,
      flow6_entry_bytes: f6.keySize + f6.valueSize,
      flow_entry_kernel_bytes: memlock === null ? null : Math.round(memlock / f4.maxEntries),
      closed_entry_bytes: closed4.keySize + closed4.valueSize,
      model_slot_bytes: img6.paramBytes,
      model_slot_weights_bytes: weights6,
      mlp_shipped_slot_bytes: imgMlp.paramBytes,
      dt_slot_bytes: imgDt.paramBytes,
      // What one slot reserves: its meta entry plus MLP_MAX_LAYERS full-width layer entries.
      model_slot_alloc_bytes: meta.valueSize + MLP_MAX_LAYERS * layers.valueSize,
      samples: got,
    };
  } finally {
    for (const d of disposables.reverse()) d.close();
  }
}
