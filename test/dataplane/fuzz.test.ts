// Fuzz: the packet parser and the flow rules at scale, kernel (BPF_PROG_TEST_RUN, test clock)
// against the TypeScript reference, both against labels the generator computed from what it built
// (test/dataplane/fuzz.ts). Every frame goes through three checks:
//   1. reference parse (parsePacket) == label: status, l3ok and, when parsed, 5-tuple, payload,
//      L4 header length, TCP flags and window;
//   2. kernel parse == label, on a stateless "probe" data plane (every parsed frame ends its flow at
//      once, early end after 1 packet): per frame the verdict (malformed frames are dropped) and
//      the one flow record it makes (addresses, ports, protocol, payload, header length, window,
//      PSH/URG/RST, FIN/RST end); per batch of 256 the counter deltas; a batch that disagrees is
//      re-run frame by frame to name the frame;
//   3. traffic: the same frames in capture order through one kernel data plane and one reference
//      (many flows, idle/active/early/FIN/RST ends, tail absorption, expire sweeps every second,
//      a final flush, block and allow lists): per frame the verdict, per window of 1024 frames
//      what every counter gained and the window's flow records, field by field.
//   Frames below 14 bytes get check 1 only: BPF_PROG_TEST_RUN takes none (replay skips them too).
// A second run drives two elephant flows past 65,535 PSH / URG packets (accumulator overflow):
// checks 1 and 3 only.
//
// Run (times on 2 cores):
//   node_modules/.bin/bun test test/dataplane/fuzz.test.ts            CI share, 200,000 frames: ~21 s
//   XIDS_FUZZ_FRAMES=1000000 node_modules/.bin/bun test test/dataplane/fuzz.test.ts   the million: ~85 s
//   XIDS_FUZZ_SEED=<n> ...                                            another seed (default 20261122)
// A failure prints the seed, the frame index, the frame as hex and the command that reproduces it:
//   XIDS_FUZZ_SEED=<seed> XIDS_FUZZ_FRAMES=<index+1> XIDS_FUZZ_WINDOW=1 XIDS_FUZZ_SHOW=<index> \
//     node_modules/.bin/bun test test/dataplane/fuzz.test.ts -t 'fuzz traffic'
//   (elephant run: XIDS_FUZZ_SEED=<seed> XIDS_FUZZ_WINDOW=1 node_modules/.bin/bun test test/dataplane/fuzz.test.ts -t overflow)
// WINDOW=1 compares counters and records after every frame, so a traffic disagreement names its
// frame; SHOW prints that frame, its label, both parses and the kernel's probe record.
import { describe, expect, test } from "bun:test";
import { COUNTER_NAMES, Counter, END_REASON_NAMES, EndReason, SweepMode, type FlowRecord } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { ParseStatus, ReferenceDataPlane, parsePacket, type DataPlaneConfig, type ParsedPacket } from "../../plugins/extractors/xdp/reference.ts";
import { recordSortKey } from "../../plugins/extractors/xdp/replay.ts";
import { EXT_TYPES, FuzzGenerator, toHex, type Expected, type FuzzFrame, type ListPlan } from "./fuzz.ts";
import { ensureBpfBuilt, plain } from "./helpers.ts";

const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};
const SEED = envInt("XIDS_FUZZ_SEED", 20261122);
const FRAMES = envInt("XIDS_FUZZ_FRAMES", 200_000);
const WINDOW = Math.max(1, envInt("XIDS_FUZZ_WINDOW", 1024));
const SHOW = process.env.XIDS_FUZZ_SHOW ? envInt("XIDS_FUZZ_SHOW", 0) : -1;
/** Coverage minimums hold from this many frames on (a reproduction run is usually shorter). */
const COVERAGE_FRAMES = 100_000;
const ELEPHANT_FRAMES = 145_000;
const PROBE_BATCH = 256;
const KEEP = 8; // failure messages kept per check (all are counted)

const STATUS = Object.fromEntries(Object.entries(ParseStatus).map(([k, v]) => [v, k])) as Record<number, string>;
const XDP_DROP = 1;
const XDP_PASS = 2;

/** Traffic: short timeouts so flows end every way within the run. */
const TRAFFIC: Partial<DataPlaneConfig> = { idleTimeoutNs: 2_000_000_000n, activeTimeoutNs: 5_000_000_000n, earlyEndPkts: 24, tailAbsorbNs: 5_000_000_000n, dropMalformed: false };
/** Elephants: nothing but the accumulators may end them. */
const ELEPHANT: Partial<DataPlaneConfig> = { idleTimeoutNs: 4_000_000_000_000n, activeTimeoutNs: 4_000_000_000_000n, earlyEndPkts: 0 };

class Failures {
  count = 0;
  readonly first: string[] = [];
  add(msg: string): void {
    if (this.count++ < KEEP) {
      this.first.push(msg);
      console.error(msg);
    }
  }
}

interface RunResult {
  name: string;
  frames: number;
  skipped: number;
  seconds: number;
  phases: Record<string, number>;
  status: Map<number, number>;
  refParse: Failures;
  kernelParse: Failures;
  traffic: Failures;
  records: number;
  endReasons: Map<string, number>;
  counters: bigint[];
  gen: FuzzGenerator;
}

const addrText = (family: 4 | 6, a: Uint8Array) =>
  family === 4 ? Array.from(a.subarray(0, 4)).join(".") : Array.from({ length: 8 }, (_, i) => ((a[2 * i]! << 8) | a[2 * i + 1]!).toString(16)).join(":");

function describeExpect(e: Expected): string {
  return `v${e.family} ${addrText(e.family, e.src)}:${e.sport} > ${addrText(e.family, e.dst)}:${e.dport} proto ${e.proto} payload ${e.payload} hdr ${e.l4Hdr} flags 0x${e.tcpFlags.toString(16)} win ${e.win}`;
}

function describeParsed(p: ParsedPacket): string {
  const s = `${STATUS[p.status]} l3ok=${p.l3ok}`;
  if (p.status !== ParseStatus.ok || (p.family !== 4 && p.family !== 6)) return s;
  return `${s} v${p.family} ${addrText(p.family, p.src)}:${p.sport} > ${addrText(p.family, p.dst)}:${p.dport} proto ${p.proto} payload ${p.payload} hdr ${p.l4Hdr} flags 0x${p.tcpFlags.toString(16)} win ${p.win}`;
}

const describeLabel = (f: FuzzFrame) => `${STATUS[f.status]} l3ok=${f.l3ok}${f.expect ? ` ${describeExpect(f.expect)}` : ""}`;

/** The command that replays the run up to frame `index` (the elephant run is always whole). */
function reproduce(run: string, index: number, show: boolean): string {
  const frames = run === "elephant" ? "" : `XIDS_FUZZ_FRAMES=${index + 1} `;
  const only = run === "elephant" ? " -t overflow" : " -t 'fuzz traffic'";
  return `XIDS_FUZZ_SEED=${SEED} ${frames}XIDS_FUZZ_WINDOW=1${show ? ` XIDS_FUZZ_SHOW=${index}` : ""} node_modules/.bin/bun test test/dataplane/fuzz.test.ts${only}`;
}

function frameReport(run: string, f: FuzzFrame, lines: string[]): string {
  return [
    `[fuzz ${run}] frame #${f.index} (seed ${SEED}) ${f.cls} '${f.kind}', rule ${f.why}`,
    ...lines.map((l) => `  ${l}`),
    `  frame (${f.data.length} B): ${toHex(f.data)}`,
    `  reproduce: ${reproduce(run, f.index, true)}`,
  ].join("\n");
}

function sameExpect(p: ParsedPacket, e: Expected): boolean {
  const alen = e.family === 4 ? 4 : 16;
  for (let i = 0; i < alen; i++) if (p.src[i] !== e.src[i] || p.dst[i] !== e.dst[i]) return false;
  return p.family === e.family && p.proto === e.proto && p.sport === e.sport && p.dport === e.dport && p.payload === e.payload && p.l4Hdr === e.l4Hdr && p.tcpFlags === e.tcpFlags && p.win === e.win;
}

/** What the probe plane's one record for a parsed frame must say (only PSH/URG/RST/FIN of the flags are visible there). */
function probeView(family: number, src: Uint8Array, dst: Uint8Array, proto: number, sport: number, dport: number, payload: bigint | number, hdr: bigint | number, win: bigint | number, psh: bigint | number, urg: bigint | number, rst: bigint | number, end: number): string {
  const fam = family === 4 ? 4 : 6;
  return `v${fam} ${addrText(fam, src)}:${sport} > ${addrText(fam, dst)}:${dport} proto ${proto} payload ${payload} hdr ${hdr} win ${win} psh ${psh} urg ${urg} rst ${rst} end ${END_REASON_NAMES[end]}`;
}

function expectedProbe(e: Expected): string {
  const tcp = e.proto === 6;
  const f = tcp ? e.tcpFlags : 0;
  const end = f & 0x04 ? EndReason.rst : f & 0x01 ? EndReason.fin : EndReason.early;
  return probeView(e.family, e.src, e.dst, e.proto, e.sport, e.dport, e.payload, e.l4Hdr, tcp ? e.win : 0, f & 0x08 ? 1 : 0, f & 0x20 ? 1 : 0, f & 0x04 ? 1 : 0, end);
}

const recordProbe = (r: FlowRecord) =>
  probeView(r.family, r.src, r.dst, r.proto, r.srcPort, r.dstPort, r.features[3]!, r.features[16]!, r.features[18]!, r.features[13]!, r.features[14]!, r.features[15]!, r.endReason);

/** The counter a non-parsed status bumps on the probe plane. */
const STATUS_COUNTER: [number, number][] = [
  [ParseStatus.malformed, Counter.malformed],
  [ParseStatus.fragment, Counter.fragment],
  [ParseStatus.otherL4, Counter.other_l4],
  [ParseStatus.nonIp, Counter.non_ip],
];

class Fuzzer implements Disposable {
  readonly probe: DataPlane;
  readonly kernel: DataPlane;
  readonly ref: ReferenceDataPlane;
  readonly refParse = new Failures();
  readonly kernelParse = new Failures();
  readonly traffic = new Failures();
  readonly status = new Map<number, number>();
  readonly endReasons = new Map<string, number>();
  readonly phases: Record<string, number> = { generate: 0, "reference parse": 0, "kernel probe": 0, "traffic kernel": 0, "traffic reference": 0, compare: 0 };
  records = 0;
  /** frames below 14 bytes: reference parse only */
  skipped = 0;
  private probeCounters: bigint[];
  private kernelWindow: FlowRecord[] = [];
  private kernelCounters: bigint[] | null = null;
  private refCounters: bigint[] | null = null;
  private window: FuzzFrame[] = [];
  private lastSweep: bigint | null = null;
  private maxTs: bigint | null = null;
  private started = false;

  constructor(readonly run: string, readonly cfg: Partial<DataPlaneConfig>, readonly lists: ListPlan | null, readonly windowSize: number, readonly withProbe: boolean) {
    this.probe = DataPlane.load({ testClock: true, earlyEndPkts: 1, tailAbsorbNs: 0n, dropMalformed: true, ringBytes: 1 << 22 });
    this.kernel = DataPlane.load({ flowsV4: 1 << 16, flowsV6: 1 << 15, ringBytes: 1 << 24, ...cfg, testClock: true, modelAction: "alert" });
    this.ref = new ReferenceDataPlane(cfg);
    this.probeCounters = this.probe.counterArray();
  }

  [Symbol.dispose](): void {
    this.probe.close();
    this.kernel.close();
  }

  /** Checks 1 and 2 on a batch, then feeds it to the traffic run. */
  batch(all: FuzzFrame[]): void {
    let t = performance.now();
    // BPF_PROG_TEST_RUN takes no frame shorter than an Ethernet header; replay skips them on both sides
    const frames = all.filter((f) => f.data.length >= 14);
    this.skipped += all.length - frames.length;
    for (const f of all) {
      this.status.set(f.status, (this.status.get(f.status) ?? 0) + 1);
      const p = parsePacket(f.data);
      if (p.status !== f.status || p.l3ok !== f.l3ok || (f.expect !== null && !sameExpect(p, f.expect))) {
        this.refParse.add(frameReport(this.run, f, [`label:     ${describeLabel(f)}`, `reference: ${describeParsed(p)}`]));
      }
      if (f.index === SHOW) this.show(f, p);
    }
    const t1 = performance.now();
    this.phases["reference parse"]! += t1 - t;
    if (this.withProbe) this.probeBatch(frames);
    t = performance.now();
    this.phases["kernel probe"]! += t - t1;
    for (const f of frames) this.trafficFrame(f);
  }

  private show(f: FuzzFrame, p: ParsedPacket): void {
    const k = f.data.length >= 14 ? this.probeOne(f) : null;
    const kernel = k ? `${k.status}${k.record ? ` ${k.record}` : ""} (verdict ${k.ret})` : "(not run: below 14 bytes)";
    console.log(frameReport(this.run, f, [`label:     ${describeLabel(f)}`, `reference: ${describeParsed(p)}`, `kernel:    ${kernel}`, ...(f.expect ? [`probe record wanted: ${expectedProbe(f.expect)}`] : [])]));
  }

  /** One frame on the probe plane with a counter snapshot on each side: the kernel's exact parse status. */
  private probeOne(f: FuzzFrame): { status: string; record: string | null; ret: number } {
    const before = this.probe.counterArray();
    const ret = this.probe.xdp.testRun({ data: f.data }).retval;
    const recs: FlowRecord[] = [];
    this.probe.drain((r) => recs.push(r));
    const after = this.probe.counterArray();
    this.probeCounters = after;
    let status = recs.length === 1 ? "ok" : "none";
    for (const [s, c] of STATUS_COUNTER) if (after[c]! - before[c]! === 1n) status = STATUS[s]!;
    return { status, record: recs.length ? recs.map(recordProbe).join(" + ") : null, ret };
  }

  private probeBatch(frames: FuzzFrame[]): void {
    const rets = frames.map((f) => this.probe.xdp.testRun({ data: f.data }).retval);
    const recs: FlowRecord[] = [];
    this.probe.drain((r) => recs.push(r));
    const before = this.probeCounters;
    const after = this.probe.counterArray();
    const delta = (c: number) => after[c]! - before[c]!;
    this.probeCounters = after;
    // counter deltas the labels call for
    const want = new Map<number, bigint>([[Counter.pkts_seen, BigInt(frames.length)]]);
    const bump = (c: number) => want.set(c, (want.get(c) ?? 0n) + 1n);
    for (const [, c] of STATUS_COUNTER) want.set(c, 0n);
    for (const c of [Counter.flows_started, Counter.records_emitted, Counter.pkts_dropped, Counter.end_base + EndReason.fin, Counter.end_base + EndReason.rst, Counter.end_base + EndReason.early]) want.set(c, 0n);
    let ok = true;
    let r = 0;
    frames.forEach((f, i) => {
      if (rets[i] !== (f.status === ParseStatus.malformed ? XDP_DROP : XDP_PASS)) ok = false;
      for (const [s, c] of STATUS_COUNTER) if (f.status === s) bump(c);
      if (f.status === ParseStatus.malformed) bump(Counter.pkts_dropped);
      if (f.expect) {
        bump(Counter.flows_started);
        bump(Counter.records_emitted);
        const fl = f.expect.proto === 6 ? f.expect.tcpFlags : 0;
        bump(Counter.end_base + (fl & 0x04 ? EndReason.rst : fl & 0x01 ? EndReason.fin : EndReason.early));
        const rec = recs[r++];
        if (!rec || recordProbe(rec) !== expectedProbe(f.expect)) ok = false;
      }
    });
    if (r !== recs.length) ok = false;
    for (const [c, v] of want) if (delta(c) !== v) ok = false;
    if (ok) return;
    // Name the frames: the probe plane keeps no state between frames, so a re-run is exact.
    let named = 0;
    for (const f of frames) {
      const k = this.probeOne(f);
      const wantRet = f.status === ParseStatus.malformed ? XDP_DROP : XDP_PASS;
      const wantRec = f.expect ? expectedProbe(f.expect) : null;
      if (k.status !== STATUS[f.status] || k.ret !== wantRet || k.record !== wantRec) {
        named++;
        this.kernelParse.add(frameReport(this.run, f, [`label:  ${describeLabel(f)} (verdict ${wantRet})`, ...(wantRec ? [`wanted record: ${wantRec}`] : []), `kernel: ${k.status} (verdict ${k.ret})${k.record ? `, record: ${k.record}` : ""}`, `reference: ${describeParsed(parsePacket(f.data))}`]));
      }
    }
    if (named === 0) {
      const diff = [...want].filter(([c, v]) => delta(c) !== v).map(([c, v]) => `${COUNTER_NAMES[c]} ${delta(c)} (want ${v})`);
      this.kernelParse.add(`[fuzz ${this.run}] probe batch #${frames[0]!.index}..#${frames[frames.length - 1]!.index} (seed ${SEED}) disagreed as a batch, not frame by frame: ${diff.join(", ")}, ${recs.length} records`);
    }
  }

  private setup(first: bigint): void {
    this.kernel.setClock(first);
    for (const cidr of this.lists?.allow ?? []) {
      this.kernel.allow(cidr);
      this.ref.allowCidr(cidr);
    }
    for (const b of this.lists?.block ?? []) {
      this.kernel.block(b.addr, { reason: b.reason, ttlNs: b.ttlNs });
      this.ref.blockAddr(b.addr, b.reason, b.ttlNs ? first + b.ttlNs : 0n);
    }
  }

  /** The replay schedule of plugins/extractors/xdp/replay.ts: an expire sweep at the first packet ≥ 1 s after the last. */
  private trafficFrame(f: FuzzFrame): void {
    if (!this.started) this.setup(f.tsNs), (this.started = true);
    let t = performance.now();
    const sink = (r: FlowRecord) => this.kernelWindow.push(r);
    if (this.lastSweep === null) this.lastSweep = f.tsNs;
    else if (f.tsNs - this.lastSweep >= 1_000_000_000n) {
      this.sweep(f.tsNs, SweepMode.expire, sink);
      this.lastSweep = f.tsNs;
      t = performance.now();
    }
    if (this.maxTs === null || f.tsNs > this.maxTs) this.maxTs = f.tsNs;
    this.kernel.setClock(f.tsNs);
    const kret = this.kernel.xdp.testRun({ data: f.data }).retval;
    const t1 = performance.now();
    const rret = this.ref.process(f.data, f.tsNs);
    this.phases["traffic kernel"]! += t1 - t;
    this.phases["traffic reference"]! += performance.now() - t1;
    if (kret !== rret) this.traffic.add(frameReport(this.run, f, [`traffic verdict: kernel ${kret}, reference ${rret} (1 drop, 2 pass)`, `label: ${describeLabel(f)}`]));
    this.window.push(f);
    if (this.window.length >= this.windowSize) this.checkpoint();
  }

  private sweep(now: bigint, mode: number, sink: (r: FlowRecord) => void): void {
    const t = performance.now();
    this.kernel.drain(sink);
    this.kernel.setClock(now);
    this.kernel.sweep(mode === SweepMode.flush ? "flush" : "expire", sink);
    const t1 = performance.now();
    this.ref.sweep(now, mode);
    this.phases["traffic kernel"]! += t1 - t;
    this.phases["traffic reference"]! += performance.now() - t1;
  }

  /** What each counter and the flow records gained in the window (records as sets: sweep order is the kernel's hash order). */
  private checkpoint(): void {
    const t = performance.now();
    this.kernel.drain((r) => this.kernelWindow.push(r));
    const kc = this.kernel.counterArray();
    const rc = [...this.ref.counters];
    const kPrev = this.kernelCounters ?? kc.map(() => 0n);
    const rPrev = this.refCounters ?? rc.map(() => 0n);
    this.kernelCounters = kc;
    this.refCounters = rc;
    const first = this.window[0]?.index ?? -1;
    const last = this.window[this.window.length - 1]?.index ?? -1;
    const where = first < 0 ? `the end of capture (seed ${SEED})` : `frames #${first}..#${last} (seed ${SEED})`;
    // deltas, so one disagreement is reported once and not in every later window
    const diff = COUNTER_NAMES.map((n, i) => [n, kc[i]! - kPrev[i]!, rc[i]! - rPrev[i]!] as const).filter(([n, k, r]) => n !== undefined && k !== r);
    const tail = this.window.length <= 4 ? this.window.map((f) => `\n  frame #${f.index} ${f.cls} '${f.kind}', rule ${f.why} (${f.data.length} B): ${toHex(f.data)}`).join("") : "";
    const repro = `\n  reproduce: ${reproduce(this.run, Math.max(0, last), this.window.length === 1)}${this.window.length > 1 ? " (a window of 1 frame names the frame)" : ""}`;
    if (diff.length) this.traffic.add(`[fuzz ${this.run}] traffic counters differ in ${where}: ${diff.map(([n, k, r]) => `${n} +${k} in the kernel, +${r} in the reference`).join(", ")}${tail}${repro}`);
    const refNew = this.ref.records.splice(0); // compared and dropped: a million frames' records need not stay
    const kRecs = this.kernelWindow;
    this.kernelWindow = [];
    this.records += kRecs.length;
    for (const r of kRecs) {
      const name = END_REASON_NAMES[r.endReason] ?? String(r.endReason);
      this.endReasons.set(name, (this.endReasons.get(name) ?? 0) + 1);
    }
    const sorted = (rs: FlowRecord[]) => rs.map((r) => [recordSortKey(r), JSON.stringify(plain(r)), r] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const a = sorted(kRecs);
    const b = sorted(refNew);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]?.[1] === b[i]?.[1]) continue;
      const rec = (a[i] ?? b[i])![2];
      const related = this.window.filter((f) => f.expect && f.expect.proto === rec.proto && f.expect.family === rec.family && touches(f.expect, rec)).slice(-5);
      this.traffic.add(
        `[fuzz ${this.run}] traffic flow records differ in ${where} (kernel ${a.length}, reference ${b.length} records in the window)\n` +
          `  kernel:    ${a[i]?.[1] ?? "(none)"}\n  reference: ${b[i]?.[1] ?? "(none)"}` +
          related.map((f) => `\n  frame #${f.index} of this flow: ${f.cls} '${f.kind}' (${f.data.length} B): ${toHex(f.data)}`).join("") +
          tail +
          repro,
      );
      break;
    }
    this.window = [];
    this.phases.compare! += performance.now() - t;
  }

  /** End of capture: one expire sweep at the latest time, then flush every flow (reason eoc). */
  finish(): void {
    const sink = (r: FlowRecord) => this.kernelWindow.push(r);
    if (this.maxTs !== null) this.sweep(this.maxTs, SweepMode.expire, sink);
    this.sweep(this.maxTs ?? 0n, SweepMode.flush, sink);
    this.checkpoint();
    const live = this.kernel.liveFlows();
    if (live !== 0 || this.ref.liveFlows !== 0) this.traffic.add(`[fuzz ${this.run}] flows left after the flush: kernel ${live}, reference ${this.ref.liveFlows}`);
  }
}

function touches(e: Expected, r: FlowRecord): boolean {
  const eq = (x: Uint8Array, y: Uint8Array) => x.every((v, i) => v === y[i]);
  const alen = e.family === 4 ? 4 : 16;
  const s = e.src.subarray(0, alen);
  const d = e.dst.subarray(0, alen);
  const rs = r.src.subarray(0, alen);
  const rd = r.dst.subarray(0, alen);
  return (eq(s, rs) && eq(d, rd) && e.sport === r.srcPort && e.dport === r.dstPort) || (eq(s, rd) && eq(d, rs) && e.sport === r.dstPort && e.dport === r.srcPort);
}

function runFuzz(name: string, gen: FuzzGenerator, frames: number, cfg: Partial<DataPlaneConfig>, lists: ListPlan | null, withProbe = true): RunResult {
  ensureBpfBuilt();
  const t0 = performance.now();
  using fz = new Fuzzer(name, cfg, lists, WINDOW, withProbe);
  for (let done = 0; done < frames; ) {
    const n = Math.min(PROBE_BATCH, frames - done);
    const t = performance.now();
    const batch: FuzzFrame[] = [];
    for (let i = 0; i < n; i++) batch.push(gen.next());
    fz.phases.generate! += performance.now() - t;
    fz.batch(batch);
    done += n;
  }
  fz.finish();
  const seconds = (performance.now() - t0) / 1000;
  const phases = Object.fromEntries(Object.entries(fz.phases).map(([k, v]) => [k, Math.round(v) / 1000]));
  return { name, frames, skipped: fz.skipped, seconds, phases, status: fz.status, refParse: fz.refParse, kernelParse: fz.kernelParse, traffic: fz.traffic, records: fz.records, endReasons: fz.endReasons, counters: fz.kernel.counterArray(), gen };
}

function summary(r: RunResult): string {
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  const c = r.counters;
  return [
    `  ${r.name}: ${r.frames} frames (seed ${SEED}; ${r.skipped} below 14 bytes, reference only) in ${r.seconds.toFixed(1)} s: ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}`,
    `  labels: ${[...r.status].map(([s, n]) => `${STATUS[s]} ${n}`).join(", ")}`,
    `  classes: ${top(r.gen.classes)}`,
    `  rules: ${top(r.gen.rules)}`,
    `  flow records: ${r.records} (${top(r.endReasons)}); tail absorbed ${c[Counter.tail_absorbed]}, dropped blocked ${c[Counter.drop_blocked]}, allowed ${c[Counter.allowed]}, block expired ${c[Counter.block_expired]}`,
    `  disagreements: reference parse ${r.refParse.count}, kernel parse ${r.kernelParse.count}, traffic ${r.traffic.count}`,
  ].join("\n");
}

/** Every rule label() can decide by. */
const RULES = [
  "eth-short", "ok tcp4", "ok udp4", "ok icmp4", "ok tcp6", "ok udp6", "ok icmp6", "non-ip", "frag4", "frag6", "other4", "other6",
  "vlan-trunc", "vlan>2", "v4-hdr-trunc", "v4-version", "ihl<5", "tot<ihl", "tot>frame", "v6-hdr-trunc", "v6-version", "plen>frame",
  "ext-beyond-1024", "ext-short", "ext-beyond-end", "ext>8", "l4-beyond-1024", "tcp-short", "tcp-doff<5", "tcp-doff>len", "udp-short", "icmp-short",
];

const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
/** Field values every CI-sized run must have parsed (or rejected) at least once. */
const FIELDS = [
  ...range(0, 255).map((f) => `ok:tcpflags:${f}`),
  ...range(5, 15).map((d) => `ok:doff:${d}`),
  ...range(0, 4).map((d) => `bad:doff:${d}`),
  ...range(5, 15).map((i) => `ok:ihl:${i}`),
  ...range(0, 4).map((i) => `bad:ihl:${i}`),
  ...range(0, 7).map((f) => `ok:v4flags:${f}`),
  ...range(0, 8).map((n) => `ok:exts:${n}`),
  ...EXT_TYPES.map((t) => `ok:ext:${t}`),
  ...range(0, 5).map((s) => `ok:tcpopts:${s}`),
  ...range(0, 7).map((s) => `ok:ipopts:${s}`),
  ...["none", "8100", "88a8", "8100/8100", "88a8/8100", "8100/88a8", "88a8/88a8"].map((t) => `ok:tags:${t}`),
  ...range(14, 160).map((n) => `cut:${n}`),
  ...range(0, 4).map((n) => `frag6:after:${n}`),
  "frag4:mf0", "frag4:mf1", "other4:0", "other4:43", "other4:44", "other4:50", "other4:51", "other4:58", "other4:60", "other4:132",
  "other6:1", "other6:50", "other6:59", "other6:132",
  "ok:first-fragment4", "ok:first-fragment6", "ok:bad-ip-csum", "ok:tot-long", "ok:tot-short", "ok:plen-long", "ok:plen-short",
  "ok:udp-len-wrong", "ok:icmp4", "ok:icmp6", "ok:jumbo", "ok:trailer", "ok:cut-in-trailer", "ok:tcp-reserved-bits",
];

describe(`fuzz traffic: ${FRAMES} frames, seed ${SEED}`, () => {
  let main: RunResult | null = null;
  const get = (): RunResult => {
    if (!main) throw new Error("the fuzz run did not complete (see the first test)");
    return main;
  };

  test("run every frame through the reference, the kernel probe and both as traffic", () => {
    const gen = new FuzzGenerator(SEED);
    main = runFuzz("traffic", gen, FRAMES, TRAFFIC, gen.lists());
    console.log(summary(main));
  }, 120_000 + FRAMES * 0.5);

  test.skipIf(FRAMES < COVERAGE_FRAMES)(`the generator covers every class, rule and header field (runs of >= ${COVERAGE_FRAMES} frames)`, () => {
    const r = get();
    const g = r.gen;
    const missing = [
      ...["ok", "fuzz", "malformed", "fragment", "other", "nonip", "trunc", "boundary", "sweep"].filter((c) => !g.classes.get(c)),
      ...RULES.filter((w) => (g.rules.get(w) ?? 0) < 20).map((w) => `${w} (${g.rules.get(w) ?? 0} frames)`),
      ...FIELDS.filter((k) => !g.coverage.get(k)),
    ];
    expect(missing).toEqual([]);
    expect([...g.coverage.keys()].filter((k) => k.startsWith("nonip:")).length).toBeGreaterThanOrEqual(20);
    for (const s of Object.values(ParseStatus)) expect(r.status.get(s) ?? 0).toBeGreaterThan(FRAMES / 50);
    const reasons = ["fin", "rst", "idle", "active", "early", "eoc"].filter((e) => (r.endReasons.get(e) ?? 0) < 20);
    expect(reasons).toEqual([]);
    const c = r.counters;
    for (const k of [Counter.tail_absorbed, Counter.drop_blocked, Counter.allowed, Counter.block_expired]) expect(c[k]!).toBeGreaterThan(0n);
  });

  test("the reference parses every frame as labelled (status, l3ok, 5-tuple, payload, header length, flags, window)", () => {
    const r = get();
    expect(r.refParse.first).toEqual([]);
    expect(r.refParse.count).toBe(0);
  });

  test("the kernel parses every frame as labelled (probe plane: verdict, counters, one record per parsed frame)", () => {
    const r = get();
    expect(r.kernelParse.first).toEqual([]);
    expect(r.kernelParse.count).toBe(0);
  });

  test("kernel == reference as traffic: per-frame verdicts, every counter and every flow record, field by field", () => {
    const r = get();
    expect(r.traffic.first).toEqual([]);
    expect(r.traffic.count).toBe(0);
    expect(r.counters[Counter.pkts_seen]).toBe(BigInt(FRAMES - r.skipped));
    expect(r.counters[Counter.flows_started]).toBe(r.counters[Counter.flows_ended]!);
    expect(r.counters[Counter.records_lost]).toBe(0n);
  });
});

describe(`fuzz: accumulator overflow (two elephant flows, ${ELEPHANT_FRAMES} frames, seed ${SEED})`, () => {
  test("65,536 forward PSH and then URG packets end their flows with reason overflow, kernel == reference", () => {
    // parsing is the first describe's; here only the reference parse and the traffic run
    const r = runFuzz("elephant", new FuzzGenerator(SEED, { mode: "elephant" }), ELEPHANT_FRAMES, ELEPHANT, null, false);
    console.log(summary(r));
    expect(r.refParse.first).toEqual([]);
    expect(r.kernelParse.first).toEqual([]);
    expect(r.traffic.first).toEqual([]);
    expect(r.traffic.count + r.kernelParse.count + r.refParse.count).toBe(0);
    expect(r.endReasons.get("overflow")).toBe(2);
    expect(r.counters[Counter.end_base + EndReason.overflow]).toBe(2n);
  }, 120_000);
});
