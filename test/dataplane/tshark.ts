// The tshark oracle: Wireshark's dissection of a capture, turned into flows and the 22 features of
// bpf/FEATURES.md by rules written from bpf/FEATURES.md and bpf/DATAPLANE.md (and its "Independent
// check" section), never by calling the project's parser, flow table or feature code. The kernel's
// records are only matched against what this file computes.
import { spawnSync } from "node:child_process";
import { parseIp } from "../../core/util/net.ts";

/** The flow rules' settings the oracle and the kernel run with (the data plane's defaults). */
export interface OracleConfig {
  idleTimeoutUs: bigint;
  activeTimeoutUs: bigint;
  tailAbsorbUs: bigint;
  sweepIntervalNs: bigint;
}

/** tshark fields, in output order. */
const FIELDS = [
  "frame.number",
  "frame.time_epoch",
  "frame.cap_len",
  "eth.type",
  "vlan.etype",
  "ip.version",
  "ip.hdr_len",
  "ip.len",
  "ip.frag_offset",
  "ip.proto",
  "ip.src",
  "ip.dst",
  "ipv6.version",
  "ipv6.plen",
  "ipv6.nxt",
  "ipv6.src",
  "ipv6.dst",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.hdr_len",
  "tcp.len",
  "tcp.flags.fin",
  "tcp.flags.syn",
  "tcp.flags.reset",
  "tcp.flags.push",
  "tcp.flags.urg",
  "tcp.window_size_value",
  "udp.srcport",
  "udp.dstport",
] as const;
type Field = (typeof FIELDS)[number];

/** One frame as tshark dissected it: every occurrence of every field (outer layer first). */
export type TsharkFrame = Record<Field, string[]>;

/**
 * Runs tshark over a capture. Reassembly is off: every frame is dissected on its own bytes, as the
 * data plane sees it (with IP reassembly tshark would put a datagram's UDP header on its last
 * fragment). Every occurrence is kept, so the outer header of an ICMP error or a tunnel is told
 * apart from the inner one.
 */
export function runTshark(path: string): TsharkFrame[] {
  const args = [
    "-n",
    "-r", path,
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    "-o", "tcp.analyze_sequence_numbers:FALSE",
    "-T", "fields",
    "-E", "separator=/t",
    "-E", "occurrence=a",
    "-E", "aggregator=,",
    "-E", "header=n",
    ...FIELDS.flatMap((f) => ["-e", f]),
  ];
  const r = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.error) {
    throw new Error(`tshark could not run (${r.error.message}): install the Debian package tshark (scripts/setup.sh does)`);
  }
  if (r.status !== 0) throw new Error(`tshark failed on ${path} (exit ${r.status}):\n${r.stderr}`);
  const frames: TsharkFrame[] = [];
  for (const line of r.stdout.split("\n")) {
    if (line === "") continue;
    const cols = line.split("\t");
    if (cols.length !== FIELDS.length) throw new Error(`tshark on ${path}: ${cols.length} columns, expected ${FIELDS.length}: ${line}`);
    const f = {} as TsharkFrame;
    FIELDS.forEach((name, i) => (f[name] = cols[i] === "" ? [] : cols[i]!.split(",")));
    frames.push(f);
  }
  return frames;
}

// ---- one frame: the data plane's packet classes (bpf/DATAPLANE.md "Parsing") ----

export type PacketClass = "nonIp" | "malformed" | "fragment" | "otherL4" | "flow";

export interface OraclePacket {
  frame: number;
  cls: PacketClass;
  tsNs: bigint;
  family: 4 | 6;
  proto: number;
  /** hex of the address bytes */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** L4 payload bytes: from the IP lengths, never the frame length or udp.length */
  payload: number;
  /** TCP header incl. options; 8 for UDP and ICMP */
  l4Hdr: number;
  fin: boolean;
  syn: boolean;
  rst: boolean;
  psh: boolean;
  urg: boolean;
  /** raw TCP window field; 0 if not TCP */
  win: number;
}

/** The frame uses something this oracle deliberately does not model (see FEATURES.md). */
export class NotModelled extends Error {}

const IPV6_EXT = new Set([0, 43, 44, 51, 60, 135, 139, 140]);
const MAX_HDR_OFF = 1024;

function first(f: TsharkFrame, k: Field): string | undefined {
  return f[k][0];
}

/** A tshark number (decimal or 0x-hex); NaN when absent. */
function num(v: string | undefined): number {
  return v === undefined ? NaN : Number(v);
}

function flag(v: string | undefined): boolean {
  return v === "1" || v === "True";
}

function addrHex(text: string | undefined, frame: number): string {
  const a = text === undefined ? null : parseIp(text);
  if (!a) throw new Error(`frame ${frame}: tshark address ${text} does not parse`);
  return Array.from(a.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** "1632239126.479007000" -> ns, exactly (tshark prints 9 fraction digits). */
export function epochNs(text: string): bigint {
  const [s, frac = ""] = text.split(".");
  return BigInt(s!) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9));
}

export function classify(f: TsharkFrame): OraclePacket {
  const frame = num(first(f, "frame.number"));
  const capLen = num(first(f, "frame.cap_len"));
  const p: OraclePacket = {
    frame, cls: "malformed", tsNs: epochNs(first(f, "frame.time_epoch") ?? "0"), family: 4, proto: 0,
    src: "", dst: "", sport: 0, dport: 0, payload: 0, l4Hdr: 0,
    fin: false, syn: false, rst: false, psh: false, urg: false, win: 0,
  };
  const is = (cls: PacketClass) => ((p.cls = cls), p);
  // Ethernet, then at most 2 VLAN tags; the EtherType chain is eth.type, then each vlan.etype.
  const types = [first(f, "eth.type"), ...f["vlan.etype"]].map(num);
  let tags = 0;
  while (types[tags] === 0x8100 || types[tags] === 0x88a8) tags++;
  if (tags >= types.length) throw new NotModelled(`frame ${frame}: VLAN tag tshark did not decode`);
  if (tags > 2) return is("malformed");
  const l2 = 14 + 4 * tags;
  const etype = types[tags];
  let l4Off: number;
  let l4Len: number;
  if (etype === 0x0800) {
    // The outer IPv4 header is the first occurrence (an ICMP error quotes another one).
    const ihl = num(first(f, "ip.hdr_len"));
    const tot = num(first(f, "ip.len"));
    if (!(capLen >= l2 + 20) || num(first(f, "ip.version")) !== 4) return is("malformed");
    p.family = 4;
    p.src = addrHex(first(f, "ip.src"), frame);
    p.dst = addrHex(first(f, "ip.dst"), frame);
    if (!(ihl >= 20 && tot >= ihl && l2 + tot <= capLen)) return is("malformed");
    if (num(first(f, "ip.frag_offset")) !== 0) return is("fragment");
    p.proto = num(first(f, "ip.proto"));
    l4Off = l2 + ihl;
    l4Len = tot - ihl;
  } else if (etype === 0x86dd) {
    const plen = num(first(f, "ipv6.plen"));
    if (!(capLen >= l2 + 40) || num(first(f, "ipv6.version")) !== 6) return is("malformed");
    if (!(l2 + 40 + plen <= capLen)) return is("malformed");
    p.family = 6;
    p.src = addrHex(first(f, "ipv6.src"), frame);
    p.dst = addrHex(first(f, "ipv6.dst"), frame);
    p.proto = num(first(f, "ipv6.nxt"));
    if (IPV6_EXT.has(p.proto)) throw new NotModelled(`frame ${frame}: IPv6 extension header ${p.proto}`);
    l4Off = l2 + 40;
    l4Len = plen;
  } else {
    return is("nonIp");
  }
  if (p.proto === 6) {
    const doff = num(first(f, "tcp.hdr_len"));
    if (l4Off > MAX_HDR_OFF || l4Len < 20 || l4Off + 20 > capLen) return is("malformed");
    if (!(doff >= 20 && doff <= l4Len)) return is("malformed");
    p.sport = num(first(f, "tcp.srcport"));
    p.dport = num(first(f, "tcp.dstport"));
    p.l4Hdr = doff;
    // tshark's own payload length (it too derives it from the IP lengths).
    p.payload = num(first(f, "tcp.len"));
    p.fin = flag(first(f, "tcp.flags.fin"));
    p.syn = flag(first(f, "tcp.flags.syn"));
    p.rst = flag(first(f, "tcp.flags.reset"));
    p.psh = flag(first(f, "tcp.flags.push"));
    p.urg = flag(first(f, "tcp.flags.urg"));
    p.win = num(first(f, "tcp.window_size_value"));
    if (p.payload !== l4Len - doff) throw new Error(`frame ${frame}: tcp.len ${p.payload} != IP payload ${l4Len} - header ${doff}`);
    return is("flow");
  }
  if (p.proto === 17 || (p.proto === 1 && p.family === 4) || (p.proto === 58 && p.family === 6)) {
    if (l4Off > MAX_HDR_OFF || l4Len < 8 || l4Off + 8 > capLen) return is("malformed");
    if (p.proto === 17) {
      p.sport = num(first(f, "udp.srcport"));
      p.dport = num(first(f, "udp.dstport"));
    }
    p.l4Hdr = 8;
    p.payload = l4Len - 8;
    return is("flow");
  }
  return is("otherL4");
}

// ---- flows: bpf/DATAPLANE.md "Flows", "Flow end" and the replay schedule ----

export interface OracleFlow {
  family: 4 | 6;
  proto: number;
  /** forward = the direction of the flow's first packet */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  endReason: "fin" | "rst" | "idle" | "active" | "eoc";
  /** forward packets in capture order */
  fwd: OraclePacket[];
  /** frames of the flow in either direction (for the report) */
  frames: number[];
}

export interface OracleResult {
  flows: OracleFlow[];
  classes: Record<PacketClass, number>;
  tailAbsorbed: number;
}

interface Live {
  flow: OracleFlow;
  firstUs: bigint;
  /** latest forward capture time so far (a packet earlier than it adds a gap of 0) */
  lastUs: bigint;
}

const satSub = (a: bigint, b: bigint) => (a > b ? a - b : 0n);

/** Builds the flows of a capture from tshark's frames. Frames shorter than 14 bytes are skipped. */
export function oracleFlows(frames: readonly TsharkFrame[], cfg: OracleConfig): OracleResult {
  const classes: Record<PacketClass, number> = { nonIp: 0, malformed: 0, fragment: 0, otherL4: 0, flow: 0 };
  const flows: OracleFlow[] = [];
  const live = new Map<string, Live>();
  /** connection -> µs of the FIN/RST that ended its last flow */
  const closedAt = new Map<string, bigint>();
  let tailAbsorbed = 0;
  let lastSweep: bigint | null = null;
  let maxTs: bigint | null = null;

  const timedOut = (l: Live, nowUs: bigint): "idle" | "active" | null =>
    satSub(nowUs, l.firstUs) > cfg.activeTimeoutUs ? "active" : satSub(nowUs, l.lastUs) > cfg.idleTimeoutUs ? "idle" : null;
  const end = (key: string, l: Live, why: OracleFlow["endReason"]) => {
    l.flow.endReason = why;
    flows.push(l.flow);
    live.delete(key);
  };
  const sweep = (nowNs: bigint) => {
    for (const [key, l] of [...live]) {
      const why = timedOut(l, nowNs / 1000n);
      if (why) end(key, l, why);
    }
  };
  const start = (key: string, p: OraclePacket, nowUs: bigint): Live => {
    const l: Live = {
      flow: { family: p.family, proto: p.proto, src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, endReason: "eoc", fwd: [], frames: [] },
      firstUs: nowUs,
      lastUs: nowUs,
    };
    live.set(key, l);
    return l;
  };

  for (const f of frames) {
    if (num(first(f, "frame.cap_len")) < 14) continue;
    const p = classify(f);
    if (lastSweep === null) lastSweep = p.tsNs;
    else if (cfg.sweepIntervalNs > 0n && p.tsNs - lastSweep >= cfg.sweepIntervalNs) {
      sweep(p.tsNs);
      lastSweep = p.tsNs;
    }
    if (maxTs === null || p.tsNs > maxTs) maxTs = p.tsNs;
    classes[p.cls]++;
    if (p.cls !== "flow") continue;

    const nowUs = p.tsNs / 1000n;
    const ends = [`${p.src}/${p.sport}`, `${p.dst}/${p.dport}`].sort();
    const key = `${p.family}|${p.proto}|${ends[0]}|${ends[1]}`;
    let l = live.get(key);
    if (l) {
      const why = timedOut(l, nowUs);
      if (why) {
        end(key, l, why);
        l = start(key, p, nowUs);
      }
    } else {
      // A bare TCP packet (no SYN, no payload) soon after a FIN/RST end is that connection's tail
      // (a window of 0 turns the rule off).
      const at = closedAt.get(key);
      const tail = cfg.tailAbsorbUs > 0n && p.proto === 6 && !p.syn && p.payload === 0;
      if (tail && at !== undefined && satSub(nowUs, at) <= cfg.tailAbsorbUs) {
        tailAbsorbed++;
        continue;
      }
      l = start(key, p, nowUs);
    }
    const fl = l.flow;
    fl.frames.push(p.frame);
    const forward = p.src === fl.src && p.sport === fl.sport && p.dst === fl.dst && p.dport === fl.dport;
    if (forward) {
      fl.fwd.push(p);
      if (nowUs > l.lastUs) l.lastUs = nowUs;
    }
    if (p.proto === 6 && (p.rst || p.fin)) {
      end(key, l, p.rst ? "rst" : "fin");
      closedAt.set(key, nowUs);
    }
  }
  if (maxTs !== null) sweep(maxTs);
  for (const [key, l] of [...live]) end(key, l, "eoc");
  return { flows, classes, tailAbsorbed };
}

// ---- the 22 features, from bpf/FEATURES.md's table ----

/** floor(sqrt(x)), exact (bisection on BigInt). */
function isqrt(x: bigint): bigint {
  let lo = 0n;
  let hi = 1n;
  while (hi * hi <= x) hi <<= 1n;
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (mid * mid <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** isqrt(floor((m·Σx² − (Σx)²) / (m·(m−1)))) of the values; 0 for fewer than 2. */
function sampleStd(xs: readonly bigint[]): bigint {
  const m = BigInt(xs.length);
  if (m < 2n) return 0n;
  const s = xs.reduce((a, b) => a + b, 0n);
  const s2 = xs.reduce((a, b) => a + b * b, 0n);
  return isqrt((m * s2 - s * s) / (m * (m - 1n)));
}

const max = (xs: readonly bigint[]) => xs.reduce((a, b) => (b > a ? b : a));
const min = (xs: readonly bigint[]) => xs.reduce((a, b) => (b < a ? b : a));

/** First and last forward time (µs) and the gaps: a packet earlier than the latest one adds 0. */
export function forwardTimes(fwd: readonly OraclePacket[]): { firstUs: bigint; lastUs: bigint; gaps: bigint[] } {
  const firstUs = fwd[0]!.tsNs / 1000n;
  let lastUs = firstUs;
  const gaps: bigint[] = [];
  for (const p of fwd.slice(1)) {
    const t = p.tsNs / 1000n;
    gaps.push(satSub(t, lastUs));
    if (t > lastUs) lastUs = t;
  }
  return { firstUs, lastUs, gaps };
}

export function oracleFeatures(fl: OracleFlow): bigint[] {
  const fwd = fl.fwd;
  const n = BigInt(fwd.length);
  const pay = fwd.map((p) => BigInt(p.payload));
  const sumP = pay.reduce((a, b) => a + b, 0n);
  const { gaps } = forwardTimes(fwd);
  const iatTotal = gaps.reduce((a, b) => a + b, 0n);
  const tcp = fl.proto === 6;
  const count = (pred: (p: OraclePacket) => boolean) => BigInt(fwd.filter(pred).length);
  const mean = sumP / n;
  return [
    BigInt(fl.proto === 6 || fl.proto === 17 ? fwd[0]!.dport : 0),
    BigInt(fl.proto),
    n,
    sumP,
    max(pay),
    min(pay),
    mean,
    sampleStd(pay),
    iatTotal,
    n < 2n ? 0n : iatTotal / (n - 1n),
    n < 3n ? 0n : sampleStd(gaps),
    n < 2n ? 0n : max(gaps),
    n < 2n ? 0n : min(gaps),
    tcp ? count((p) => p.psh) : 0n,
    tcp ? count((p) => p.urg) : 0n,
    tcp ? count((p) => p.rst) : 0n,
    fwd.reduce((a, p) => a + BigInt(p.l4Hdr), 0n),
    iatTotal > 0n ? (n * 1_000_000n) / iatTotal : 0n,
    tcp ? BigInt(fwd[0]!.win) : 0n,
    count((p) => p.payload >= 1),
    min(fwd.map((p) => BigInt(p.l4Hdr))),
    mean,
  ];
}
