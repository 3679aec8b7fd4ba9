// Replay: runs a capture through the kernel data plane (BPF_PROG_TEST_RUN, test clock = each
// packet's capture time) or through the reference, with one driver so both follow the same
// schedule. Flow-end schedule, identical on both sides:
//   - per packet: FIN/RST, idle/active timeout (checked on the flow's next packet), early end;
//   - a sweep (expire) before the first packet whose time is ≥ sweepIntervalNs after the last
//     sweep, at that packet's time (0 = no periodic sweeps);
//   - end of capture: one expire sweep at the latest capture time seen, then every remaining flow
//     is flushed with reason "eoc".
// Frames shorter than an Ethernet header (14 bytes) cannot be test-run and are skipped by both.
import type { CapturedPacket } from "./pcap.ts";

/** What replay needs of a packet (origLen is not used: the frame is what was captured). */
export type ReplayPacket = Pick<CapturedPacket, "tsNs" | "data">;
import type { FlowRecord } from "../../../core/ebpf/abi.ts";
import { SweepMode, Verdict } from "../../../core/ebpf/abi.ts";
import { DataPlane, type BlockEntryInfo, type DataPlaneOptions } from "../../../core/ebpf/dataplane.ts";
import { ReferenceDataPlane, type DataPlaneConfig } from "./reference.ts";
import { probesFor, referenceVerdict } from "../../models/kernel/probes.ts";
import type { KernelModel } from "../../models/kernel/slot-image.ts";
import { ModelSlots } from "../../models/kernel/model-slots.ts";

export interface ReplayOptions extends Partial<DataPlaneConfig> {
  /** Capture-time interval between expire sweeps, ns; default 1 s; 0 disables. */
  sweepIntervalNs?: bigint;
  /** Block/allow entries applied before the first packet. */
  allow?: string[];
  block?: { addr: string; reason?: number; ttlNs?: bigint }[];
}

export interface ReplayResult {
  records: FlowRecord[];
  /** enum xids_counter slots (kernel: summed across CPUs) */
  counters: bigint[];
  /** per replayed packet: XDP_PASS (2) or XDP_DROP (1) */
  actions: Uint8Array;
  skipped: number;
}

interface Engine {
  setup(first: bigint): void;
  packet(p: ReplayPacket): number;
  sweep(nowNs: bigint, mode: number): void;
  finish(): { records: FlowRecord[]; counters: bigint[] };
}

function drive(engine: Engine, packets: readonly ReplayPacket[], opts: ReplayOptions): ReplayResult {
  const interval = opts.sweepIntervalNs ?? 1_000_000_000n;
  const actions = new Uint8Array(packets.length);
  let skipped = 0;
  let lastSweep: bigint | null = null;
  let maxTs: bigint | null = null;
  engine.setup(packets[0]?.tsNs ?? 0n);
  packets.forEach((p, i) => {
    if (p.data.length < 14) {
      skipped++;
      return;
    }
    if (lastSweep === null) lastSweep = p.tsNs;
    else if (interval > 0n && p.tsNs - lastSweep >= interval) {
      engine.sweep(p.tsNs, SweepMode.expire);
      lastSweep = p.tsNs;
    }
    if (maxTs === null || p.tsNs > maxTs) maxTs = p.tsNs;
    actions[i] = engine.packet(p);
  });
  if (maxTs !== null) engine.sweep(maxTs, SweepMode.expire);
  engine.sweep(maxTs ?? 0n, SweepMode.flush);
  return { ...engine.finish(), actions, skipped };
}

/** The oracle's verdict and score on each record, as the kernel's classifier fills them. */
export function classifyRecords(records: FlowRecord[], model: KernelModel): void {
  for (const r of records) {
    const v = referenceVerdict(model, r.features);
    r.verdict = v.attack ? Verdict.attack : Verdict.benign;
    r.score = v.score;
  }
}

export function replayReference(packets: readonly ReplayPacket[], opts: ReplayOptions = {}): ReplayResult {
  const dp = new ReferenceDataPlane(opts);
  return drive(
    {
      setup(first) {
        for (const cidr of opts.allow ?? []) dp.allowCidr(cidr);
        for (const b of opts.block ?? []) dp.blockAddr(b.addr, b.reason ?? 0, b.ttlNs ? first + b.ttlNs : 0n);
      },
      packet: (p) => dp.process(p.data, p.tsNs),
      sweep: (now, mode) => void dp.sweep(now, mode),
      finish: () => ({ records: dp.records, counters: dp.counters }),
    },
    packets,
    opts,
  );
}

export interface KernelReplayOptions extends ReplayOptions {
  dataPlane?: Omit<DataPlaneOptions, keyof DataPlaneConfig | "testClock">;
  /** Classify ended flows in the kernel with this model. */
  model?: KernelModel;
  /** Block on attack verdicts as an agent would (TTL, reason, policy); absent: verdicts only. */
  blocking?: Pick<DataPlaneOptions, "blockTtlNs" | "blockReason" | "blockPolicy">;
}

export interface KernelReplayResult extends ReplayResult {
  /** The block list at the end of the capture (with `blocking`: what the model blocked). */
  blocks: BlockEntryInfo[];
}

export function replayKernel(packets: readonly ReplayPacket[], opts: KernelReplayOptions = {}): KernelReplayResult {
  const records: FlowRecord[] = [];
  const sink = (r: FlowRecord) => records.push(r);
  using dp = DataPlane.load({
    flowsV4: 1 << 16, // the largest shared capture keeps ~38k flows open; a sweep walks every bucket
    flowsV6: 1 << 15,
    ringBytes: 1 << 24,
    ...opts.dataPlane,
    ...pickConfig(opts),
    ...(opts.blocking ?? {}),
    testClock: true,
    modelAction: opts.blocking ? "block" : "alert",
  });
  if (opts.model) new ModelSlots(dp.coll).activateNow(opts.model, 1, probesFor(opts.model));
  let sinceDrain = 0;
  const result = drive(
    {
      setup(first) {
        dp.setClock(first);
        for (const cidr of opts.allow ?? []) dp.allow(cidr);
        for (const b of opts.block ?? []) dp.block(b.addr, { reason: b.reason ?? 0, ttlNs: b.ttlNs ?? 0n });
      },
      packet(p) {
        dp.setClock(p.tsNs);
        const res = dp.xdp.testRun({ data: p.data });
        // ≤ 2 records per packet; the 16 MiB ring holds 65536: drain well before it could fill.
        if (++sinceDrain >= 4096) {
          dp.drain(sink);
          sinceDrain = 0;
        }
        return res.retval;
      },
      sweep(now, mode) {
        dp.drain(sink);
        dp.setClock(now);
        dp.sweep(mode === SweepMode.flush ? "flush" : "expire", sink);
      },
      finish() {
        dp.drain(sink);
        return { records, counters: dp.counterArray() };
      },
    },
    packets,
    opts,
  );
  return { ...result, blocks: dp.blocks() };
}

function pickConfig(o: Partial<DataPlaneConfig>): Partial<DataPlaneConfig> {
  const out: Partial<DataPlaneConfig> = {};
  if (o.idleTimeoutNs !== undefined) out.idleTimeoutNs = o.idleTimeoutNs;
  if (o.activeTimeoutNs !== undefined) out.activeTimeoutNs = o.activeTimeoutNs;
  if (o.earlyEndPkts !== undefined) out.earlyEndPkts = o.earlyEndPkts;
  if (o.tailAbsorbNs !== undefined) out.tailAbsorbNs = o.tailAbsorbNs;
  if (o.dropMalformed !== undefined) out.dropMalformed = o.dropMalformed;
  if (o.trackFlows !== undefined) out.trackFlows = o.trackFlows;
  return out;
}

/** A total order on records, for comparing kernel and reference output as sets. */
export function recordSortKey(r: FlowRecord): string {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return [
    r.firstUs.toString().padStart(20, "0"),
    r.family,
    hex(r.src),
    hex(r.dst),
    String(r.srcPort).padStart(5, "0"),
    String(r.dstPort).padStart(5, "0"),
    String(r.proto).padStart(3, "0"),
    r.endReason,
    r.lastUs.toString().padStart(20, "0"),
  ].join("|");
}

export function sortRecords(rs: FlowRecord[]): FlowRecord[] {
  return rs
    .map((r) => [recordSortKey(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((x) => x[1]);
}
