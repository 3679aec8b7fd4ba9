// A streaming fuzz generator for the packet parser and the flow rules: an unbounded, seeded sequence
// of frames (traffic: many conversations, both directions, timestamps advancing with bursts, long
// gaps and small steps back), each labelled with what a correct parser must make of it.
//
// Labels come from what was built, never from parsing bytes: every frame is first drawn as a spec
// (each header field a value, sane or not), then written, and label() applies the documented rules
// of bpf/DATAPLANE.md ("Parsing") to the spec's own values and offsets. Classes with an intended
// outcome (ok, fragment, other L4, non-IP, each malformation) throw if label() disagrees with the
// intent, so a generator bug cannot pass as a parser bug. The same seed gives the same frames.
import { ParseStatus } from "../../plugins/extractors/xdp/reference.ts";
import { rng } from "./packets.ts";

// The documented limits (bpf/DATAPLANE.md), written out here so labels do not follow the code.
const MAX_TAGS = 2;
const MAX_EXT = 8;
const MAX_HDR_OFF = 1024;
/** IPv6 extension headers the parser walks; ESP (50) and no-next-header (59) are not among them. */
export const EXT_TYPES = [0, 43, 44, 51, 60, 135, 139, 140] as const;
const isExt = (nh: number) => nh === 0 || nh === 43 || nh === 44 || nh === 51 || nh === 60 || nh === 135 || nh === 139 || nh === 140;

const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 };
const COMMON_FLAGS = [
  TCP.ACK, TCP.PSH | TCP.ACK, TCP.SYN, TCP.SYN | TCP.ACK, TCP.URG | TCP.ACK, TCP.ECE | TCP.CWR | TCP.ACK,
  TCP.PSH | TCP.URG | TCP.ACK, 0, TCP.SYN | TCP.ECE | TCP.CWR, TCP.ACK | TCP.CWR,
];
/** EtherTypes that are not IP (nor a VLAN tag): ARP, RARP, LLDP, PPPoE, MPLS, old QinQ, PTP, 802.3 lengths, ... */
const NON_IP = [0x0806, 0x8035, 0x88cc, 0x8863, 0x8864, 0x8847, 0x8848, 0x9100, 0x9200, 0x88e5, 0x88f7, 0x22f0, 0x0000, 0x002e, 0x05dc, 0x0600, 0x0801, 0x86dc, 0x86de, 0x8101, 0x88a9, 0xffff];
/** Other L4 protocols: never ICMP of the other family's kind, never TCP/UDP. v4 includes IPv6's extension numbers. */
const OTHER4 = [0, 2, 4, 41, 43, 44, 47, 50, 51, 58, 59, 60, 89, 103, 112, 132, 135, 136, 139, 140, 253, 255];
const OTHER6 = [1, 2, 4, 41, 47, 50, 59, 89, 103, 112, 132, 136, 253, 255];
const SERVICE_PORTS = [0, 1, 22, 53, 80, 123, 443, 8080, 65535];

export interface Expected {
  family: 4 | 6;
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  sport: number;
  dport: number;
  payload: number;
  l4Hdr: number;
  tcpFlags: number;
  win: number;
}

export interface FuzzFrame {
  index: number;
  tsNs: bigint;
  data: Uint8Array;
  /** generator class (ok, fuzz, malformed, fragment, other, nonip, trunc, sweep, boundary, elephant) */
  cls: string;
  /** what was built, for failure messages */
  kind: string;
  /** label(): the rule that decided (e.g. "ok tcp4", "ihl<5", "ext-beyond-end") */
  why: string;
  status: number;
  /** the fixed IP header was readable (allow/block apply) */
  l3ok: boolean;
  expect: Expected | null;
}

type L4 =
  | { kind: "tcp"; sport: number; dport: number; seq: number; ack: number; doff: number; res: number; flags: number; win: number; csum: number; urp: number; optLen: number; optStyle: number; payload: number }
  | { kind: "udp"; sport: number; dport: number; len: number | null; csum: number; payload: number }
  | { kind: "icmp"; type: number; code: number; csum: number; rest: number; payload: number }
  | { kind: "raw"; proto: number; payload: number };

interface Ext {
  type: number;
  /** the length byte (for 44 the reserved byte, which the parser ignores) */
  lenByte: number;
  /** 44 only: 13-bit offset and the low 3 bits (reserved + M) */
  fragOff: number;
  fragLow: number;
}

/** A length field: relative to what was built (delta), or an absolute value. */
type LenField = { delta: number } | { abs: number };

interface V4 { family: 4; ver: number; ihl: number; tos: number; tot: LenField; id: number; flags: number; fragOff: number; ttl: number; badCsum: boolean; optStyle: number }
interface V6 { family: 6; ver: number; tc: number; flow: number; plen: LenField; hlim: number; exts: Ext[] }
interface NonIp { family: 0; body: number }

interface Spec {
  tags: [number, number][];
  /** null: the family's own EtherType */
  etherType: number | null;
  l3: V4 | V6 | NonIp;
  l4: L4;
  src: Uint8Array;
  dst: Uint8Array;
  trailer: number;
  trailerZero: boolean;
}

interface Built {
  full: Uint8Array;
  nTags: number;
  etherType: number;
  l3Off: number;
  spec: Spec;
  /** v4: the total length written; v6: the payload length written */
  ipLen: number;
  exts: { pos: number; type: number; hl: number; fragOff: number }[];
  l4Off: number;
  wireProto: number;
  /** L4 header + payload bytes actually written */
  l4Written: number;
}

interface Label {
  status: number;
  why: string;
  l3ok: boolean;
  expect: Expected | null;
}

interface Tuple {
  family: 4 | 6;
  proto: "tcp" | "udp" | "icmp";
  a: Uint8Array;
  b: Uint8Array;
  ap: number;
  bp: number;
}

/** An IPv6 extension header's length as the parser computes it. */
export function extLen(type: number, lenByte: number): number {
  return type === 44 ? 8 : type === 51 ? (lenByte + 2) * 4 : (lenByte + 1) * 8;
}

function csum16(b: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i += 2) s += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");
export const toHex = (b: Uint8Array): string => {
  let s = "";
  for (const x of b) s += hex2(x);
  return s;
};

class Rand {
  constructor(readonly f: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.f() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.f() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.f() * a.length)]!;
  }
  u8(): number {
    return Math.floor(this.f() * 256);
  }
  u16(): number {
    return Math.floor(this.f() * 65536);
  }
  u32(): number {
    return Math.floor(this.f() * 4294967296);
  }
  /** an index drawn by the weights behind `cum` (from cdf()) */
  which(cum: readonly number[]): number {
    const x = this.f();
    for (let i = 0; i < cum.length - 1; i++) if (x < cum[i]!) return i;
    return cum.length - 1;
  }
}

/** Cumulative, normalised weights for Rand.which() (built once: the hot path allocates nothing). */
function cdf(...w: number[]): readonly number[] {
  const total = w.reduce((a, b) => a + b, 0);
  let s = 0;
  return w.map((x) => (s += x) / total);
}

const W = {
  proto: cdf(0.55, 0.32, 0.13),
  payload: cdf(0.3, 0.3, 0.2, 0.195, 0.004, 0.001),
  tags: cdf(0.55, 0.28, 0.17),
  tagsAny: cdf(0.5, 0.25, 0.15, 0.06, 0.03, 0.01),
  flags: cdf(0.83, 0.05, 0.02, 0.1),
  v4flags: cdf(0.55, 0.2, 0.05, 0.2),
  ahLen: cdf(0.4, 0.3, 0.2, 0.1),
  extLen: cdf(0.5, 0.3, 0.15, 0.05),
  extCount: cdf(0.5, 0.2, 0.12, 0.07, 0.04, 0.03, 0.02, 0.01, 0.01),
  extCountAny: cdf(0.4, 0.3, 0.2, 0.1),
  optWords: cdf(0.35, 0.2, 0.15, 0.3),
  rawPayload: cdf(0.2, 0.5, 0.3),
  l4: cdf(0.4, 0.25, 0.15, 0.2),
  // mean ≈ 110 µs; a jump short of the fuzz test's 2 s idle timeout every ~100,000 frames, one
  // past it (every flow idles out at once: a mass sweep) every ~400,000
  gap: cdf(0.15, 0.72, 0.12, 0.002, 0.00001, 0.0000025, 0.0009),
  trailer: cdf(0.7, 0.2, 0.1),
  cls: cdf(0.5, 0.12, 0.14, 0.05, 0.04, 0.03, 0.08, 0.012, 0.0012),
  lie: cdf(0.8, 0.1, 0.1),
  lenAny: cdf(0.2, 0.5, 0.3),
  beyond: cdf(0.7, 0.3),
} as const;
const CLASSES = ["ok", "fuzz", "malformed", "fragment", "other", "nonip", "trunc", "boundary", "sweep"] as const;

// Coverage keys built once (string keys made per frame would cost more than the frame).
const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const K = {
  tcpflags: keys("ok:tcpflags:", 256),
  doff: keys("ok:doff:", 16),
  ihl: keys("ok:ihl:", 16),
  v4flags: keys("ok:v4flags:", 8),
  exts: keys("ok:exts:", 16),
  ext: keys("ok:ext:", 256),
  tcpopts: keys("ok:tcpopts:", 8),
  ipopts: keys("ok:ipopts:", 8),
  cut: keys("cut:", 2048),
  // tag count and TPIDs (bit i set = tag i is 802.1ad)
  tags: ["ok:tags:none", "ok:tags:8100", "ok:tags:88a8", "", "ok:tags:8100/8100", "ok:tags:88a8/8100", "ok:tags:8100/88a8", "ok:tags:88a8/88a8"],
};
const OK_WHY = { tcp4: "ok tcp4", tcp6: "ok tcp6", udp4: "ok udp4", udp6: "ok udp6", icmp4: "ok icmp4", icmp6: "ok icmp6" } as const;

export interface FuzzOptions {
  /** "traffic" (default): every class; "elephant": two long TCP flows that overflow the PSH and URG counters */
  mode?: "traffic" | "elephant";
}

/** Addresses whose traffic the fuzz test blocks or allows (fixed by the seed). */
export interface ListPlan {
  block: { addr: string; reason: number; ttlNs: bigint }[];
  allow: string[];
}

export class FuzzGenerator {
  readonly seed: number;
  readonly mode: "traffic" | "elephant";
  /** frames per generator class */
  readonly classes = new Map<string, number>();
  /** frames per deciding rule of label() ("ok tcp4", "ihl<5", ...) */
  readonly rules = new Map<string, number>();
  /** field values seen (e.g. "ok:tcpflags:41": a parsed TCP frame with flags 0x29) */
  readonly coverage = new Map<string, number>();
  private readonly r: Rand;
  private readonly pool: Uint8Array;
  private readonly buf = new Uint8Array(70_000);
  private readonly hosts4: Uint8Array[] = [];
  private readonly hosts6: Uint8Array[] = [];
  private readonly universe: Tuple[] = [];
  private readonly active: Tuple[] = [];
  private readonly queue: FuzzFrame[] = [];
  private index = 0;
  private ts = 1_700_000_000_000_000_000n;
  private elephantFwd = 0;

  constructor(seed: number, opts: FuzzOptions = {}) {
    this.seed = seed;
    this.mode = opts.mode ?? "traffic";
    this.r = new Rand(rng(seed));
    const r = this.r;
    this.pool = Uint8Array.from({ length: 1 << 17 }, () => r.u8());
    const v4 = (a: number, b: number, c: number, d: number) => Uint8Array.from([a, b, c, d]);
    for (let i = 0; i < 40; i++) this.hosts4.push(v4(198, 18 + (i & 1), r.u8(), r.u8()));
    this.hosts4.push(v4(0, 0, 0, 0), v4(255, 255, 255, 255), v4(127, 0, 0, 1), v4(224, 0, 0, 251), v4(10, 1, 2, 3), v4(198, 18, 0, 1), v4(198, 18, 0, 2));
    const v6 = (head: number[], tail: number[]) => {
      const a = new Uint8Array(16);
      a.set(head, 0);
      a.set(tail, 16 - tail.length);
      return a;
    };
    for (let i = 0; i < 28; i++) this.hosts6.push(v6([0x20, 0x01, 0x00, 0x02, 0, 0, r.u8(), r.u8()], Array.from({ length: 8 }, () => r.u8())));
    this.hosts6.push(v6([], []), v6([], [1]), v6([0xff, 0x02], [1]), v6([0xfe, 0x80], [1]), v6([0x20, 0x01, 0, 2], [1]), v6([0x20, 0x01, 0, 2], [2]), v6([], [0xff, 0xff, 198, 18, 0, 1]));
    // A bounded universe of 5-tuples: enough variety for many flows, few enough that no kernel LRU
    // table (flows, FIN/RST "closed" entries) ever evicts — the reference never evicts.
    const port = () => (r.chance(0.4) ? r.pick(SERVICE_PORTS) : r.int(1, 65535));
    for (let i = 0; i < 40_000; i++) {
      const family: 4 | 6 = i < 24_000 ? 4 : 6;
      const hosts = family === 4 ? this.hosts4 : this.hosts6;
      const a = r.pick(hosts);
      const b = r.chance(0.01) ? a : r.pick(hosts);
      const proto = (["tcp", "udp", "icmp"] as const)[r.which(W.proto)]!;
      this.universe.push({ family, proto, a, b, ap: proto === "icmp" ? 0 : port(), bp: proto === "icmp" ? 0 : port() });
    }
    for (let i = 0; i < 3000; i++) this.active.push(r.pick(this.universe));
  }

  /** Blocked and allowed sources for the traffic run (one block expires, one blocked host is also allowed). */
  lists(): ListPlan {
    const f4 = (a: Uint8Array) => Array.from(a).join(".");
    const f6 = (a: Uint8Array) => Array.from({ length: 8 }, (_, i) => ((a[2 * i]! << 8) | a[2 * i + 1]!).toString(16)).join(":");
    return {
      block: [
        { addr: f4(this.hosts4[3]!), reason: 2, ttlNs: 0n },
        { addr: f4(this.hosts4[7]!), reason: 20, ttlNs: 8_000_000_000n },
        { addr: f4(this.hosts4[9]!), reason: 1, ttlNs: 0n },
        { addr: f6(this.hosts6[2]!), reason: 5, ttlNs: 0n },
      ],
      allow: [`${f4(this.hosts4[9]!)}/32`, `${f4(this.hosts4[5]!)}/24`, `${f6(this.hosts6[4]!)}/64`],
    };
  }

  private cover(key: string, m = this.coverage): void {
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  // ---- random pieces ----

  private bytesAt(n: number): number {
    return this.r.int(0, this.pool.length - n);
  }

  private payloadSize(): number {
    const r = this.r;
    switch (r.which(W.payload)) {
      case 0: return 0;
      case 1: return r.int(1, 64);
      case 2: return r.int(65, 600);
      case 3: return r.int(601, 1460);
      case 4: return r.int(1461, 9000); // jumbo: multi-buffer in the kernel
      default: return r.int(9001, 65400);
    }
  }

  private tagsOk(): [number, number][] {
    return this.tagsN(this.r.which(W.tags));
  }

  private tagsN(n: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < n; i++) out.push([this.r.chance(0.5) ? 0x8100 : 0x88a8, this.r.u16()]);
    return out;
  }

  private tcpFlagsOk(): number {
    const r = this.r;
    switch (r.which(W.flags)) {
      case 0: return r.pick(COMMON_FLAGS);
      case 1: return r.chance(0.5) ? TCP.FIN | TCP.ACK : TCP.FIN | TCP.PSH | TCP.ACK;
      case 2: return r.chance(0.5) ? TCP.RST : TCP.RST | TCP.ACK;
      default: return r.u8(); // every combination, FIN/RST/SYN together included
    }
  }

  private v4Ok(): V4 {
    const r = this.r;
    const ihl = r.chance(0.7) ? 5 : r.int(6, 15);
    // flags: reserved (evil) bit, DF, MF; MF with offset 0 is a first fragment, parsed as L4
    const flags = [2, 0, 1, -1][r.which(W.v4flags)]!;
    return { family: 4, ver: 4, ihl, tos: r.u8(), tot: { delta: 0 }, id: r.u16(), flags: flags < 0 ? r.int(0, 7) : flags, fragOff: 0, ttl: r.u8(), badCsum: r.chance(0.15), optStyle: r.int(0, 7) };
  }

  private ext(type: number, big = false): Ext {
    // at most 120 bytes (15 units of 8, 30 of 4): 8 of them keep L4 within the 1024-byte limit
    const r = this.r;
    let lenByte: number;
    if (type === 44) lenByte = r.u8();
    else if (type === 51) lenByte = big ? r.int(0, 28) : [0, 1, -1, -2][r.which(W.ahLen)]!;
    else lenByte = big ? r.int(0, 14) : [0, 1, -1, -2][r.which(W.extLen)]!;
    if (lenByte === -1) lenByte = type === 51 ? r.int(2, 6) : r.int(2, 3);
    if (lenByte === -2) lenByte = type === 51 ? r.int(7, 28) : r.int(4, 14);
    return { type, lenByte, fragOff: 0, fragLow: r.int(0, 7) };
  }

  private extsOk(): Ext[] {
    const r = this.r;
    const out: Ext[] = [];
    for (let n = r.which(W.extCount); n > 0; n--) out.push(this.ext(r.pick(EXT_TYPES)));
    return out;
  }

  private v6Ok(exts = this.extsOk()): V6 {
    const r = this.r;
    return { family: 6, ver: 6, tc: r.u8(), flow: r.int(0, 0xfffff), plen: { delta: 0 }, hlim: r.u8(), exts };
  }

  private l4Ok(kind: "tcp" | "udp" | "icmp", sport: number, dport: number): L4 {
    const r = this.r;
    const payload = this.payloadSize();
    if (kind === "tcp") {
      const words = [0, 3, 5, -1][r.which(W.optWords)]!;
      const optLen = 4 * (words < 0 ? r.int(0, 10) : words);
      return {
        kind, sport, dport, seq: r.u32(), ack: r.u32(), doff: 5 + optLen / 4, res: r.chance(0.8) ? 0 : r.int(0, 15),
        flags: this.tcpFlagsOk(), win: r.u16(), csum: r.u16(), urp: r.chance(0.8) ? 0 : r.u16(), optLen, optStyle: r.int(0, 5), payload,
      };
    }
    if (kind === "udp") {
      // The UDP length field is never used: L4 length comes from the IP header.
      const wrong = [0, r.int(1, 7), r.u16(), 8 + payload + r.int(1, 100), Math.max(0, 8 + payload - r.int(1, 100))];
      const len = r.chance(0.7) ? null : r.pick(wrong);
      return { kind, sport, dport, len, csum: r.chance(0.2) ? 0 : r.u16(), payload };
    }
    return { kind, type: r.chance(0.6) ? r.pick([0, 3, 8, 11, 128, 129, 133, 135, 136]) : r.u8(), code: r.chance(0.7) ? 0 : r.u8(), csum: r.u16(), rest: r.u32(), payload };
  }

  private rawL4(family: 4 | 6): L4 {
    const r = this.r;
    let proto = r.chance(0.8) ? r.pick(family === 4 ? OTHER4 : OTHER6) : r.u8();
    const bad = (p: number) => p === 6 || p === 17 || (family === 4 ? p === 1 : p === 58 || isExt(p));
    while (bad(proto)) proto = r.u8();
    const size = r.which(W.rawPayload);
    return { kind: "raw", proto, payload: size === 0 ? 0 : size === 1 ? r.int(1, 64) : r.int(65, 400) };
  }

  /** A random L4 of any kind (for classes whose outcome does not depend on it). */
  private anyL4(family: 4 | 6, sport: number, dport: number): L4 {
    const k = (["tcp", "udp", "icmp", "raw"] as const)[this.r.which(W.l4)]!;
    return k === "raw" ? this.rawL4(family) : this.l4Ok(k, sport, dport);
  }

  // ---- time and conversations ----

  private advance(): void {
    const r = this.r;
    let us: number;
    switch (r.which(W.gap)) {
      case 0: us = 0; break;
      case 1: us = r.int(1, 30); break;
      case 2: us = r.int(31, 1000); break;
      case 3: us = r.int(1001, 20_000); break;
      case 4: us = r.int(300_000, 1_900_000); break;
      case 5: us = r.int(2_100_000, 4_000_000); break;
      default: us = -r.int(1, 5000); // capture clocks step back sometimes
    }
    this.ts += BigInt(us) * 1000n + (us === 0 ? 0n : BigInt(r.int(0, 999)));
  }

  private conversation(): { t: Tuple; src: Uint8Array; dst: Uint8Array; sport: number; dport: number } {
    const r = this.r;
    if (r.chance(0.01)) this.active[r.int(0, this.active.length - 1)] = r.pick(this.universe);
    // skewed: a few hot conversations (long flows, early/active ends), a long tail near the idle timeout
    const u = r.f();
    const t = this.active[Math.floor(this.active.length * u * u)]!;
    return r.chance(0.65) ? { t, src: t.a, dst: t.b, sport: t.ap, dport: t.bp } : { t, src: t.b, dst: t.a, sport: t.bp, dport: t.ap };
  }

  // ---- writing ----

  private build(s: Spec): Built {
    const b = this.buf;
    const r = this.r;
    let w = 0;
    const put8 = (v: number) => void (b[w++] = v & 0xff);
    const put16 = (v: number) => ((b[w++] = (v >>> 8) & 0xff), (b[w++] = v & 0xff));
    const put32 = (v: number) => (put16(v >>> 16), put16(v & 0xffff));
    const fill = (n: number) => {
      const pool = this.pool;
      const o = this.bytesAt(n);
      if (n > 64) b.set(pool.subarray(o, o + n), w);
      else for (let i = 0; i < n; i++) b[w + i] = pool[o + i]!; // no view object for short runs
      w += n;
    };
    // MACs: mostly unicast, sometimes broadcast or multicast (nothing in the parser looks at them)
    if (r.chance(0.05)) (b.fill(0xff, 0, 6), (w = 6));
    else if ((fill(6), r.chance(0.9))) b[0] = b[0]! & 0xfe;
    fill(6);
    for (const [tpid, tci] of s.tags) put16(tpid), put16(tci);
    const l3 = s.l3;
    const etherType = s.etherType ?? (l3.family === 4 ? 0x0800 : l3.family === 6 ? 0x86dd : 0x0806);
    put16(etherType);
    const l3Off = w;
    const exts: Built["exts"] = [];
    let l4Off = w;
    let ipLen = 0;
    let l4Written = 0;
    const l4 = s.l4;
    const family = l3.family;
    const wireProto = l4.kind === "tcp" ? 6 : l4.kind === "udp" ? 17 : l4.kind === "icmp" ? (family === 6 ? 58 : 1) : l4.proto;

    const writeL4 = (room: number) => {
      const start = w;
      if (l4.kind === "tcp") {
        const payload = Math.max(0, Math.min(l4.payload, room - 20 - l4.optLen));
        put16(l4.sport), put16(l4.dport), put32(l4.seq), put32(l4.ack);
        put8((l4.doff << 4) | l4.res), put8(l4.flags), put16(l4.win), put16(l4.csum), put16(l4.urp);
        this.options(l4.optLen, l4.optStyle, "tcp", (v) => put8(v), fill);
        fill(payload);
      } else if (l4.kind === "udp") {
        const payload = Math.max(0, Math.min(l4.payload, room - 8));
        put16(l4.sport), put16(l4.dport), put16(l4.len ?? (8 + payload) & 0xffff), put16(l4.csum);
        fill(payload);
      } else if (l4.kind === "icmp") {
        const payload = Math.max(0, Math.min(l4.payload, room - 8));
        put8(l4.type), put8(l4.code), put16(l4.csum), put32(l4.rest);
        fill(payload);
      } else fill(Math.max(0, Math.min(l4.payload, room)));
      l4Written = w - start;
    };
    const lenOf = (f: LenField, natural: number) => ("abs" in f ? f.abs : Math.max(0, Math.min(0xffff, natural + f.delta)));

    if (l3.family === 4) {
      const hdr = l3.ihl >= 5 ? l3.ihl * 4 : 20; // the L4 header always starts at IHL·4 when IHL is valid
      put8((l3.ver << 4) | l3.ihl), put8(l3.tos), put16(0), put16(l3.id), put16((l3.flags << 13) | l3.fragOff);
      put8(l3.ttl), put8(wireProto), put16(0);
      for (let i = 0; i < 4; i++) (b[w + i] = s.src[i]!), (b[w + 4 + i] = s.dst[i]!);
      w += 8;
      this.options(hdr - 20, l3.optStyle, "ip", (v) => put8(v), fill);
      l4Off = w;
      writeL4(0xffff - hdr);
      ipLen = lenOf(l3.tot, w - l3Off);
      b[l3Off + 2] = ipLen >> 8;
      b[l3Off + 3] = ipLen & 0xff;
      const c = l3.badCsum ? r.u16() : csum16(b, l3Off, l3Off + hdr);
      b[l3Off + 10] = c >> 8;
      b[l3Off + 11] = c & 0xff;
    } else if (l3.family === 6) {
      put8((l3.ver << 4) | (l3.tc >> 4)), put8(((l3.tc & 0xf) << 4) | (l3.flow >> 16)), put16(l3.flow & 0xffff);
      put16(0), put8(l3.exts[0]?.type ?? wireProto), put8(l3.hlim);
      for (let i = 0; i < 16; i++) (b[w + i] = s.src[i]!), (b[w + 16 + i] = s.dst[i]!);
      w += 32;
      let extBytes = 0;
      l3.exts.forEach((e, i) => {
        const hl = extLen(e.type, e.lenByte);
        exts.push({ pos: w, type: e.type, hl, fragOff: e.type === 44 ? e.fragOff : 0 });
        put8(l3.exts[i + 1]?.type ?? wireProto), put8(e.lenByte);
        if (e.type === 44) put16((e.fragOff << 3) | e.fragLow), put32(r.u32());
        else fill(hl - 2);
        extBytes += hl;
      });
      l4Off = w;
      writeL4(0xffff - extBytes);
      ipLen = lenOf(l3.plen, w - l3Off - 40);
      b[l3Off + 4] = ipLen >> 8;
      b[l3Off + 5] = ipLen & 0xff;
    } else {
      fill(l3.body);
    }
    if (s.trailerZero) b.fill(0, w, w + s.trailer), (w += s.trailer);
    else fill(s.trailer);
    return { full: b.subarray(0, w), nTags: s.tags.length, etherType, l3Off, spec: s, ipLen, exts, l4Off, wireProto, l4Written };
  }

  /** IPv4 or TCP options, exactly n bytes, in one of several styles (valid, padding, garbage, bad lengths). */
  private options(n: number, style: number, kind: "ip" | "tcp", put: (v: number) => void, fill: (n: number) => void): void {
    if (n <= 0) return;
    const r = this.r;
    let left = n;
    const emit = (bytes: number[]) => {
      for (const v of bytes.slice(0, left)) put(v);
      left -= Math.min(left, bytes.length);
    };
    if (style === 1) return emit(new Array<number>(n).fill(1)); // NOPs
    if (style === 2) return emit([0]), fill(left); // EOL, then anything
    if (style === 3) return fill(n); // garbage
    if (style === 4) {
      // a length that lies: 0, 1 or beyond the header
      emit([r.u8() | 2, r.pick([0, 1, 255, n + 4])]);
      return fill(left);
    }
    const valid =
      kind === "tcp"
        ? [[2, 4, 5, 0xb4], [3, 3, 7], [4, 2], [8, 10, 0, 0, 0, 1, 0, 0, 0, 2], [1], [5, 10, 0, 0, 0, 1, 0, 0, 0, 9], [30, 4, 0, 1], [34, 2], [254, 4, 0xf9, 0x89]]
        : [[1], [7, 7, 4, 0, 0, 0, 0], [68, 8, 5, 0, 0, 0, 0, 0], [148, 4, 0, 0], [130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0]];
    while (left > 0) emit(r.pick(valid));
  }

  // ---- labels ----

  /** The parse outcome of a built frame cut to `len` bytes, from the spec's values (bpf/DATAPLANE.md). */
  private label(bt: Built, len: number): Label {
    const s = bt.spec;
    const bad = (why: string, l3ok = false): Label => ({ status: ParseStatus.malformed, why, l3ok, expect: null });
    if (len < 14) return bad("eth-short");
    for (let i = 0; i < Math.min(bt.nTags, MAX_TAGS); i++) if (14 + 4 * (i + 1) > len) return bad("vlan-trunc");
    if (bt.nTags > MAX_TAGS) return bad("vlan>2");
    const off = 14 + 4 * bt.nTags;
    if (off !== bt.l3Off) throw new Error("fuzz generator: L3 offset mismatch");
    const l3 = s.l3;
    if (bt.etherType !== (l3.family === 4 ? 0x0800 : 0x86dd) || l3.family === 0) {
      if (bt.etherType === 0x0800 || bt.etherType === 0x86dd) throw new Error("fuzz generator: IP EtherType on a non-IP body");
      return { status: ParseStatus.nonIp, why: "non-ip", l3ok: false, expect: null };
    }
    let pos: number;
    let l4Len: number;
    let proto: number;
    if (l3.family === 4) {
      if (off + 20 > len) return bad("v4-hdr-trunc");
      if (l3.ver !== 4) return bad("v4-version");
      if (l3.ihl < 5) return bad("ihl<5", true);
      if (bt.ipLen < l3.ihl * 4) return bad("tot<ihl", true);
      if (off + bt.ipLen > len) return bad("tot>frame", true);
      if (l3.fragOff !== 0) return { status: ParseStatus.fragment, why: "frag4", l3ok: true, expect: null };
      pos = off + l3.ihl * 4;
      l4Len = bt.ipLen - l3.ihl * 4;
      proto = bt.wireProto;
    } else {
      if (off + 40 > len) return bad("v6-hdr-trunc");
      if (l3.ver !== 6) return bad("v6-version");
      const end = off + 40 + bt.ipLen;
      if (end > len) return bad("plen>frame", true);
      pos = off + 40;
      let i = 0;
      for (; i < MAX_EXT && i < bt.exts.length; i++) {
        const e = bt.exts[i]!;
        if (e.pos !== pos) throw new Error("fuzz generator: extension header offset mismatch");
        if (pos > MAX_HDR_OFF) return bad("ext-beyond-1024", true);
        if (pos + 8 > end) return bad("ext-short", true);
        if (pos + e.hl > end) return bad("ext-beyond-end", true);
        if (e.type === 44 && e.fragOff !== 0) return { status: ParseStatus.fragment, why: "frag6", l3ok: true, expect: null };
        pos += e.hl;
      }
      if (i < bt.exts.length) return bad("ext>8", true);
      l4Len = end - pos;
      proto = bt.wireProto;
    }
    if (pos !== bt.l4Off) throw new Error("fuzz generator: L4 offset mismatch");
    if (pos > MAX_HDR_OFF) return bad("l4-beyond-1024", true);
    const l4 = s.l4;
    const fam = l3.family;
    const ok = (hdr: number, sport: number, dport: number, tcpFlags: number, win: number): Label => ({
      status: ParseStatus.ok,
      why: OK_WHY[`${l4.kind as "tcp" | "udp" | "icmp"}${fam}`],
      l3ok: true,
      expect: { family: fam, src: s.src, dst: s.dst, proto, sport, dport, payload: l4Len - hdr, l4Hdr: hdr, tcpFlags, win },
    });
    if (l4.kind === "tcp") {
      if (l4Len < 20) return bad("tcp-short", true);
      if (l4.doff < 5) return bad("tcp-doff<5", true);
      if (l4.doff * 4 > l4Len) return bad("tcp-doff>len", true);
      return ok(l4.doff * 4, l4.sport, l4.dport, l4.flags, l4.win);
    }
    if (l4.kind === "udp") return l4Len < 8 ? bad("udp-short", true) : ok(8, l4.sport, l4.dport, 0, 0);
    if (l4.kind === "icmp") return l4Len < 8 ? bad("icmp-short", true) : ok(8, 0, 0, 0, 0);
    return { status: ParseStatus.otherL4, why: fam === 4 ? "other4" : "other6", l3ok: true, expect: null };
  }

  // ---- frames ----

  private emit(cls: string, kind: string, bt: Built, len: number, intent: { status: number; why?: string } | null): FuzzFrame {
    const lab = this.label(bt, len);
    if (intent && (lab.status !== intent.status || (intent.why !== undefined && lab.why !== intent.why))) {
      throw new Error(`fuzz generator (seed ${this.seed}, frame ${this.index}): ${cls} '${kind}' labelled ${lab.why}, meant ${intent.why ?? intent.status}`);
    }
    this.cover(cls, this.classes);
    this.cover(lab.why, this.rules);
    if (len < bt.full.length && len < K.cut.length) this.cover(K.cut[len]!);
    if (lab.status === ParseStatus.ok) this.coverOk(bt, len);
    const frame: FuzzFrame = { index: this.index++, tsNs: this.ts, data: bt.full.slice(0, len), cls, kind, why: lab.why, status: lab.status, l3ok: lab.l3ok, expect: lab.expect };
    return frame;
  }

  /** Field values seen in frames that parse: every one of them must parse identically. */
  private coverOk(bt: Built, len: number): void {
    const s = bt.spec;
    const l3 = s.l3;
    let tagCode = bt.nTags === 0 ? 0 : bt.nTags === 1 ? 1 : 4;
    s.tags.forEach((t, i) => (tagCode += t[0] === 0x88a8 ? 1 << i : 0));
    this.cover(K.tags[tagCode]!);
    if (l3.family === 4) {
      this.cover(K.ihl[l3.ihl]!);
      this.cover(K.v4flags[l3.flags]!);
      if (l3.ihl > 5) this.cover(K.ipopts[l3.optStyle]!);
      if (l3.flags & 1) this.cover("ok:first-fragment4");
      if (l3.badCsum) this.cover("ok:bad-ip-csum");
      if (bt.ipLen !== bt.l4Off - bt.l3Off + bt.l4Written) this.cover(bt.ipLen > bt.l4Off - bt.l3Off + bt.l4Written ? "ok:tot-long" : "ok:tot-short");
    }
    if (l3.family === 6) {
      this.cover(K.exts[l3.exts.length]!);
      for (const e of l3.exts) this.cover(K.ext[e.type]!);
      if (l3.exts.some((e) => e.type === 44)) this.cover("ok:first-fragment6");
      if (bt.ipLen !== bt.l4Off - bt.l3Off - 40 + bt.l4Written) this.cover(bt.ipLen > bt.l4Off - bt.l3Off - 40 + bt.l4Written ? "ok:plen-long" : "ok:plen-short");
    }
    const l4 = s.l4;
    if (l4.kind === "tcp") {
      this.cover(K.tcpflags[l4.flags]!);
      this.cover(K.doff[l4.doff]!);
      if (l4.res) this.cover("ok:tcp-reserved-bits");
      if (l4.doff > 5) this.cover(K.tcpopts[l4.optStyle]!);
    }
    if (l4.kind === "udp" && l4.len !== null) this.cover("ok:udp-len-wrong");
    if (l4.kind === "icmp") this.cover(l3.family === 4 ? "ok:icmp4" : "ok:icmp6");
    if (len > 1514) this.cover("ok:jumbo");
    if (len < bt.full.length) this.cover("ok:cut-in-trailer");
    if (s.trailer > 0) this.cover("ok:trailer");
  }

  next(): FuzzFrame {
    const q = this.queue.shift();
    if (q) return q;
    return this.mode === "elephant" ? this.elephant() : this.traffic();
  }

  private base(family: 4 | 6, l4: L4, src: Uint8Array, dst: Uint8Array, tags = this.tagsOk()): Spec {
    const r = this.r;
    const trailer = r.which(W.trailer);
    const spec: Spec = { tags, etherType: null, l3: family === 4 ? this.v4Ok() : this.v6Ok(), l4, src, dst, trailer: 0, trailerZero: true };
    if (trailer === 1) spec.trailer = -1; // pad to 60, resolved below
    if (trailer === 2) (spec.trailer = r.int(1, 64)), (spec.trailerZero = r.chance(0.3));
    return spec;
  }

  /** Ethernet padding to the 60-byte minimum, known only once the rest is sized. */
  private buildPadded(spec: Spec): Built {
    if (spec.trailer !== -1) return this.build(spec);
    spec.trailer = 0;
    const probe = this.build(spec);
    spec.trailer = Math.max(0, 60 - probe.full.length);
    return spec.trailer ? this.build(spec) : probe;
  }

  private traffic(): FuzzFrame {
    const r = this.r;
    this.advance();
    const c = this.conversation();
    const fam = c.t.family;
    const cls = CLASSES[r.which(W.cls)]!;
    if (cls === "ok" || cls === "sweep") {
      const l4 = this.l4Ok(c.t.proto, c.sport, c.dport);
      if (cls === "sweep") l4.payload = r.int(0, 40);
      const spec = this.base(fam, l4, c.src, c.dst);
      // lengths that lie within what the frame holds: longer (trailer becomes payload) or shorter
      const lf: LenField = { delta: [0, 1, -1][r.which(W.lie)]! };
      if ("delta" in lf && lf.delta !== 0) {
        if (lf.delta > 0) (spec.trailer = r.int(1, 64)), (spec.trailerZero = r.chance(0.5)), (lf.delta = r.int(1, spec.trailer));
        else lf.delta = -r.int(0, Math.min(l4.payload, 1460));
      }
      if (spec.l3.family === 4) spec.l3.tot = lf;
      else if (spec.l3.family === 6) spec.l3.plen = lf;
      const bt = this.buildPadded(spec);
      if (cls === "sweep") {
        // truncated at every offset (below 14 bytes too: only the reference can take those), then whole
        for (let len = 0; len < bt.full.length; len++) {
          this.queue.push(this.emit(cls, `cut ${len}/${bt.full.length}`, bt, len, null));
          this.ts += BigInt(r.int(1, 50)) * 1000n;
        }
        this.queue.push(this.emit(cls, `whole ${bt.full.length}`, bt, bt.full.length, { status: ParseStatus.ok }));
        return this.queue.shift()!;
      }
      return this.emit(cls, `v${fam} ${l4.kind}`, bt, bt.full.length, { status: ParseStatus.ok });
    }
    if (cls === "trunc") {
      const spec = r.chance(0.7) ? this.base(fam, this.l4Ok(c.t.proto, c.sport, c.dport), c.src, c.dst) : this.fuzzSpec(fam, c);
      const bt = this.buildPadded(spec);
      const len = r.int(14, bt.full.length - 1);
      return this.emit(cls, `v${fam} cut ${len}/${bt.full.length}`, bt, len, null);
    }
    if (cls === "fuzz") {
      const bt = this.buildPadded(this.fuzzSpec(fam, c));
      return this.emit(cls, `v${fam} fields at random`, bt, bt.full.length, null);
    }
    if (cls === "fragment") return this.fragment(fam, c);
    if (cls === "other") {
      const spec = this.base(fam, this.rawL4(fam), c.src, c.dst);
      const bt = this.buildPadded(spec);
      this.cover(`other${fam}:${bt.wireProto}`);
      return this.emit(cls, `v${fam} proto ${bt.wireProto}`, bt, bt.full.length, { status: ParseStatus.otherL4 });
    }
    if (cls === "nonip") {
      let et = r.chance(0.8) ? r.pick(NON_IP) : r.u16();
      while (et === 0x0800 || et === 0x86dd || et === 0x8100 || et === 0x88a8) et = r.u16();
      const spec: Spec = { tags: this.tagsOk(), etherType: et, l3: { family: 0, body: r.int(0, 120) }, l4: { kind: "raw", proto: 0, payload: 0 }, src: c.src, dst: c.dst, trailer: 0, trailerZero: true };
      const bt = this.build(spec);
      this.cover(`nonip:${et.toString(16)}`);
      return this.emit(cls, `ethertype 0x${et.toString(16)}`, bt, bt.full.length, { status: ParseStatus.nonIp });
    }
    if (cls === "boundary") return this.boundary(c);
    return this.malformed(fam, c);
  }

  /** Every field from its whole range; label() decides. */
  private fuzzSpec(fam: 4 | 6, c: ReturnType<FuzzGenerator["conversation"]>): Spec {
    const r = this.r;
    const l4 = this.anyL4(fam, c.sport, c.dport);
    if (l4.kind === "tcp") {
      l4.doff = r.chance(0.5) ? l4.doff : r.int(0, 15);
      l4.optLen = r.int(0, 40);
      l4.flags = r.u8();
      l4.res = r.int(0, 15);
    }
    if (l4.kind !== "raw" && r.chance(0.3)) l4.payload = r.int(0, 30);
    const tags = this.tagsN(r.which(W.tagsAny));
    const spec = this.base(fam, l4, c.src, c.dst, tags);
    const lf = (): LenField => {
      const k = r.which(W.lenAny);
      return k === 0 ? { delta: 0 } : k === 1 ? { delta: r.int(-80, 80) } : { abs: r.u16() };
    };
    spec.trailer = r.chance(0.5) ? 0 : r.int(0, 90);
    spec.trailerZero = r.chance(0.5);
    if (spec.l3.family === 4) {
      const v = spec.l3;
      v.ver = r.chance(0.9) ? 4 : r.int(0, 15);
      v.ihl = r.int(0, 15);
      v.tot = lf();
      v.flags = r.int(0, 7);
      v.fragOff = r.chance(0.85) ? 0 : r.int(0, 0x1fff);
      this.cover(`fuzz:ihl:${v.ihl}`);
    } else if (spec.l3.family === 6) {
      const v = spec.l3;
      v.ver = r.chance(0.9) ? 6 : r.int(0, 15);
      v.plen = lf();
      const n = [0, r.int(1, 3), r.int(4, 8), r.int(9, 12)][r.which(W.extCountAny)]!;
      v.exts = Array.from({ length: n }, () => {
        const e = this.ext(r.pick(EXT_TYPES));
        if (r.chance(0.05)) e.lenByte = r.u8();
        if (e.type === 44 && r.chance(0.3)) e.fragOff = r.int(1, 0x1fff);
        return e;
      });
    }
    return spec;
  }

  private fragment(fam: 4 | 6, c: ReturnType<FuzzGenerator["conversation"]>): FuzzFrame {
    const r = this.r;
    // What follows a non-first fragment's header is data: any L4 kind, any (even tiny) length.
    const l4 = this.anyL4(fam, c.sport, c.dport);
    if (r.chance(0.3)) l4.payload = r.int(0, 8);
    const spec = this.base(fam, l4, c.src, c.dst);
    if (spec.l3.family === 4) {
      spec.l3.fragOff = r.chance(0.1) ? r.pick([1, 0x1fff]) : r.int(1, 0x1fff);
      spec.l3.flags = r.int(0, 7);
      if (l4.kind === "tcp" && r.chance(0.3)) l4.doff = r.int(0, 15); // not parsed: a bad header does not matter
      const bt = this.buildPadded(spec);
      this.cover(`frag4:mf${spec.l3.flags & 1}`);
      return this.emit("fragment", `v4 offset ${spec.l3.fragOff}`, bt, bt.full.length, { status: ParseStatus.fragment, why: "frag4" });
    }
    const v6 = spec.l3 as V6;
    const before = r.int(0, 4);
    const exts = Array.from({ length: before }, () => this.ext(r.pick(EXT_TYPES.filter((t) => t !== 44))));
    const frag = this.ext(44);
    frag.fragOff = r.int(1, 0x1fff);
    exts.push(frag);
    // after the fragment header: more headers (even bad ones) or the data
    for (let i = r.int(0, 2); i > 0; i--) {
      const e = this.ext(r.pick(EXT_TYPES));
      if (r.chance(0.3)) e.lenByte = r.u8();
      exts.push(e);
    }
    v6.exts = exts;
    const bt = this.buildPadded(spec);
    this.cover(`frag6:after:${before}`);
    return this.emit("fragment", `v6 frag header #${before + 1} offset ${frag.fragOff}`, bt, bt.full.length, { status: ParseStatus.fragment, why: "frag6" });
  }

  /** Header offsets at the documented limits: L4 and extension headers at ±4 bytes of 1024, 8 and 9 headers. */
  private boundary(c: ReturnType<FuzzGenerator["conversation"]>): FuzzFrame {
    const r = this.r;
    const l4 = r.chance(0.8) ? this.l4Ok(c.t.family === 6 ? c.t.proto : r.pick(["tcp", "udp", "icmp"] as const), c.sport, c.dport) : this.rawL4(6);
    l4.payload = r.int(0, 64);
    const hosts = c.t.family === 6 ? [c.src, c.dst] : [r.pick(this.hosts6), r.pick(this.hosts6)];
    const spec = this.base(6, l4, hosts[0]!, hosts[1]!);
    const v6 = spec.l3 as V6;
    const off = 14 + 4 * spec.tags.length + 40;
    const what = r.int(0, 2);
    const parsed = { status: l4.kind === "raw" ? ParseStatus.otherL4 : ParseStatus.ok };
    if (what === 0) {
      // L4 at 1018 / 1022 (parsed) or 1026 / 1030 (malformed): one big header plus an AH to land there
      const target = r.pick([1018, 1022, 1026, 1030]);
      const need = target - off;
      const ah = need % 8 === 0 ? 0 : 12;
      v6.exts = [{ type: r.pick(EXT_TYPES.filter((t) => t !== 44 && t !== 51)), lenByte: (need - ah) / 8 - 1, fragOff: 0, fragLow: 0 }];
      if (ah) v6.exts.push({ type: 51, lenByte: 1, fragOff: 0, fragLow: 0 });
      const bt = this.buildPadded(spec);
      return this.emit("boundary", `v6 L4 at ${target}`, bt, bt.full.length, target <= MAX_HDR_OFF ? parsed : { status: ParseStatus.malformed, why: "l4-beyond-1024" });
    }
    if (what === 1) {
      // an extension header starting at 1022 (walked) or 1026 (malformed)
      const target = r.pick([1022, 1026]);
      const need = target - off;
      const ah = need % 8 === 0 ? 0 : 12;
      v6.exts = [{ type: 60, lenByte: (need - ah) / 8 - 1, fragOff: 0, fragLow: 0 }];
      if (ah) v6.exts.push({ type: 51, lenByte: 1, fragOff: 0, fragLow: 0 });
      v6.exts.push(this.ext(r.pick(EXT_TYPES)));
      const bt = this.buildPadded(spec);
      return this.emit("boundary", `v6 ext header at ${target}`, bt, bt.full.length, { status: ParseStatus.malformed, why: target <= MAX_HDR_OFF ? "l4-beyond-1024" : "ext-beyond-1024" });
    }
    // exactly 8 extension headers (walked) or 9 (malformed)
    const n = r.chance(0.5) ? 8 : 9;
    v6.exts = Array.from({ length: n }, () => this.ext(r.pick(EXT_TYPES)));
    const bt = this.buildPadded(spec);
    return this.emit("boundary", `v6 ${n} ext headers`, bt, bt.full.length, n === 8 ? parsed : { status: ParseStatus.malformed, why: "ext>8" });
  }

  private malformed(fam: 4 | 6, c: ReturnType<FuzzGenerator["conversation"]>): FuzzFrame {
    const r = this.r;
    const v4Only = ["ihl<5", "tot<ihl", "tot>frame", "v4-version", "v4-hdr-trunc"];
    const v6Only = ["plen>frame", "v6-version", "v6-hdr-trunc", "ext-short", "ext-beyond-end", "ext>8", "ext-beyond-1024", "l4-beyond-1024"];
    const both = ["vlan>2", "vlan-trunc", "tcp-short", "tcp-doff<5", "tcp-doff>len", "udp-short", "icmp-short"];
    const why = r.pick([...both, ...(fam === 4 ? v4Only : v6Only)]);
    const kind: "tcp" | "udp" | "icmp" = why.startsWith("tcp") ? "tcp" : why === "udp-short" ? "udp" : why === "icmp-short" ? "icmp" : c.t.proto;
    const l4 = this.l4Ok(kind, c.sport, c.dport);
    if (l4.payload > 1460) l4.payload = r.int(0, 1460);
    const spec = this.base(fam, l4, c.src, c.dst);
    const v4 = spec.l3.family === 4 ? spec.l3 : null;
    const v6 = spec.l3.family === 6 ? spec.l3 : null;
    let cut: number | null = null;
    const l3Off = () => 14 + 4 * spec.tags.length;
    const l4Room = (room: number) => {
      // IP length that leaves `room` bytes of L4
      if (v4) v4.tot = { abs: v4.ihl * 4 + room };
      else if (v6) v6.plen = { abs: v6.exts.reduce((s, e) => s + extLen(e.type, e.lenByte), 0) + room };
    };
    switch (why) {
      case "vlan>2":
        spec.tags = this.tagsN(r.int(3, 5));
        break;
      case "vlan-trunc":
        spec.tags = this.tagsN(r.int(1, 2));
        cut = r.int(14, 14 + 4 * spec.tags.length - 1);
        break;
      case "v4-version":
        v4!.ver = r.pick([0, 1, 2, 3, 5, 6, 7, 15]);
        break;
      case "v6-version":
        v6!.ver = r.pick([0, 4, 5, 7, 15]);
        break;
      case "v4-hdr-trunc":
        cut = l3Off() + r.int(0, 19);
        break;
      case "v6-hdr-trunc":
        cut = l3Off() + r.int(0, 39);
        break;
      case "ihl<5":
        v4!.ihl = r.int(0, 4);
        this.cover(`bad:ihl:${v4!.ihl}`);
        break;
      case "tot<ihl":
        v4!.tot = { abs: r.int(0, v4!.ihl * 4 - 1) };
        break;
      case "tot>frame":
      case "plen>frame":
        spec.trailer = r.chance(0.5) ? 0 : r.int(1, 30);
        const over = r.which(W.beyond) === 0 ? r.int(1, 8) : r.int(9, 20000);
        if (v4) v4.tot = { delta: spec.trailer + over };
        if (v6) v6.plen = { delta: spec.trailer + over };
        break;
      case "ext-short":
      case "ext-beyond-end": {
        const v = v6!;
        if (v.exts.length === 0) v.exts = [this.ext(r.pick(EXT_TYPES))];
        const j = r.int(0, v.exts.length - 1);
        let e = v.exts[j]!;
        if (why === "ext-beyond-end" && extLen(e.type, e.lenByte) <= 8) v.exts[j] = e = { ...e, type: r.pick([0, 43, 60, 135, 139, 140, 51]), lenByte: r.int(1, 6) };
        const at = v.exts.slice(0, j).reduce((s, x) => s + extLen(x.type, x.lenByte), 0);
        v.plen = { abs: at + (why === "ext-short" ? r.int(0, 7) : r.int(8, extLen(e.type, e.lenByte) - 1)) };
        // keep 44 a first fragment so it cannot turn this into "fragment"
        for (const x of v.exts) x.fragOff = 0;
        break;
      }
      case "ext>8":
        v6!.exts = Array.from({ length: r.int(9, 12) }, () => this.ext(r.pick(EXT_TYPES)));
        break;
      case "ext-beyond-1024": {
        const first = 14 + 4 * spec.tags.length + 40;
        const lenByte = Math.ceil((MAX_HDR_OFF + 1 - first) / 8) - 1 + r.int(0, 20);
        v6!.exts = [{ type: r.pick([0, 43, 60, 135, 139, 140]), lenByte, fragOff: 0, fragLow: 0 }, this.ext(r.pick(EXT_TYPES))];
        break;
      }
      case "l4-beyond-1024": {
        const first = 14 + 4 * spec.tags.length + 40;
        v6!.exts = [this.ext(r.pick([0, 43, 60, 135, 139, 140])), { type: r.pick([0, 43, 60, 135, 139, 140]), lenByte: 0, fragOff: 0, fragLow: 0 }];
        const soFar = extLen(v6!.exts[0]!.type, v6!.exts[0]!.lenByte);
        v6!.exts[1]!.lenByte = Math.ceil((MAX_HDR_OFF + 1 - first - soFar) / 8) - 1 + r.int(0, 30);
        if (r.chance(0.2)) spec.l4 = this.rawL4(6); // checked before the protocol: other L4 too
        break;
      }
      case "tcp-short":
        l4Room(r.int(0, 19));
        break;
      case "udp-short":
      case "icmp-short":
        l4Room(r.int(0, 7));
        break;
      case "tcp-doff<5":
        if (l4.kind === "tcp") (l4.doff = r.int(0, 4)), (l4.optLen = r.pick([0, 0, 4, 12])), this.cover(`bad:doff:${l4.doff}`);
        break;
      case "tcp-doff>len":
        if (l4.kind === "tcp") {
          l4.doff = r.int(6, 15);
          l4.optLen = r.int(0, l4.doff * 4 - 24);
          l4.payload = r.int(0, l4.doff * 4 - 21 - l4.optLen);
        }
        break;
    }
    if (v6 && why !== "ext-short" && why !== "ext-beyond-end") for (const e of v6.exts) e.fragOff = 0;
    const bt = this.buildPadded(spec);
    const len = cut ?? bt.full.length;
    return this.emit("malformed", `v${fam} ${why}`, bt, len, { status: ParseStatus.malformed, why });
  }

  /** Two long TCP flows: 65,536 forward PSH packets end the first (overflow), 65,536 URG the second. */
  private elephant(): FuzzFrame {
    const r = this.r;
    this.ts += BigInt(r.int(1, 20)) * 1000n;
    const phase = this.elephantFwd < 66_000 ? 0 : 1;
    const t: Tuple = { family: 4, proto: "tcp", a: this.hosts4[0]!, b: this.hosts4[1]!, ap: 40_000 + phase, bp: 443 };
    // the first packet of each flow is forward: it decides the direction
    const fwd = this.elephantFwd === 0 || this.elephantFwd === 66_000 || r.chance(0.92);
    const l4 = this.l4Ok("tcp", fwd ? t.ap : t.bp, fwd ? t.bp : t.ap);
    if (l4.kind !== "tcp") throw new Error("unreachable");
    l4.flags = fwd ? (phase === 0 ? TCP.PSH | TCP.ACK | (r.chance(0.3) ? TCP.URG : 0) : TCP.URG | TCP.ACK) : TCP.ACK;
    if (l4.payload > 1460) l4.payload = r.int(0, 1460);
    if (fwd) this.elephantFwd++;
    const spec = this.base(4, l4, fwd ? t.a : t.b, fwd ? t.b : t.a);
    const bt = this.buildPadded(spec);
    return this.emit("elephant", `${phase ? "URG" : "PSH"} flow ${fwd ? "forward" : "backward"}`, bt, bt.full.length, { status: ParseStatus.ok });
  }
}
