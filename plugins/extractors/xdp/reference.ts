// The reference data plane: the same parse, allow/block, flow and flow-end rules as
// bpf/xids.bpf.c, in plain TypeScript. It is the oracle the kernel is tested against, so it
// follows the C line by line (order of checks included) rather than being clever.
import {
  Counter,
  EndReason,
  FL_FWD_IS_B,
  FL_RST,
  MAX_BLOCK_REASONS,
  MAX_HDR_OFF,
  MAX_IPV6_EXT,
  MAX_VLAN,
  NUM_COUNTERS,
  SweepMode,
  Verdict,
  DEFAULT_CONFIG,
  type DataPlaneConfig,
  type FlowRecord,
} from "../../../core/ebpf/abi.ts";

export { DEFAULT_CONFIG, type DataPlaneConfig };
import { parseCidr, parseIp } from "../../../core/ebpf/addr.ts";
import { SourceContexts, satSub } from "./context.ts";
import { accAck, deriveFeatures, FL_SCANNED, FL_SYN0, payloadFeatures, scanPayload, type FlowAcc } from "./features.ts";


export const XDP_DROP = 1;
export const XDP_PASS = 2;

export const ParseStatus = { ok: 0, nonIp: 1, malformed: 2, fragment: 3, otherL4: 4 } as const;

export interface ParsedPacket {
  status: number;
  family: 4 | 6 | 0;
  /** the fixed L3 header was readable: src/dst valid */
  l3ok: boolean;
  proto: number;
  tcpFlags: number;
  /** TCP: acknowledgment number */
  ack: number;
  sport: number;
  dport: number;
  win: number;
  l4Hdr: number;
  payload: number;
  /** TCP: where the payload starts in the frame */
  payOff: number;
  src: Uint8Array;
  dst: Uint8Array;
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_URG = 0x20;

const IPV6_EXT = new Set([0, 43, 44, 51, 60, 135, 139, 140]);

/** Parse exactly as parse() in xids.bpf.c. `frame` is the whole frame (the kernel's buff len). */
export function parsePacket(frame: Uint8Array): ParsedPacket {
  const p: ParsedPacket = {
    status: ParseStatus.malformed,
    family: 0,
    l3ok: false,
    proto: 0,
    tcpFlags: 0,
    ack: 0,
    sport: 0,
    dport: 0,
    win: 0,
    l4Hdr: 0,
    payload: 0,
    payOff: 0,
    src: new Uint8Array(16),
    dst: new Uint8Array(16),
  };
  const len = frame.length;
  const u16 = (o: number) => (frame[o]! << 8) | frame[o + 1]!;
  const done = (status: number) => ((p.status = status), p);
  if (len < 14) return done(ParseStatus.malformed);
  let off = 14;
  let ethType = u16(12);
  for (let i = 0; i < MAX_VLAN; i++) {
    if (ethType !== 0x8100 && ethType !== 0x88a8) break;
    if (off + 4 > len) return done(ParseStatus.malformed);
    ethType = u16(off + 2);
    off += 4;
  }
  if (ethType === 0x8100 || ethType === 0x88a8) return done(ParseStatus.malformed);

  if (ethType === 0x0800) {
    if (off + 20 > len || frame[off]! >> 4 !== 4) return done(ParseStatus.malformed);
    p.family = 4;
    p.src.set(frame.subarray(off + 12, off + 16));
    p.dst.set(frame.subarray(off + 16, off + 20));
    p.l3ok = true;
    const ihl = (frame[off]! & 0x0f) * 4;
    const tot = u16(off + 2);
    if (ihl < 20 || tot < ihl || off + tot > len) return done(ParseStatus.malformed);
    if (u16(off + 6) & 0x1fff) return done(ParseStatus.fragment);
    return done(parseL4(frame, off + ihl, tot - ihl, frame[off + 9]!, p));
  }
  if (ethType === 0x86dd) {
    if (off + 40 > len || frame[off]! >> 4 !== 6) return done(ParseStatus.malformed);
    p.family = 6;
    p.src.set(frame.subarray(off + 8, off + 24));
    p.dst.set(frame.subarray(off + 24, off + 40));
    p.l3ok = true;
    const plen = u16(off + 4);
    const end = off + 40 + plen;
    let nh = frame[off + 6]!;
    if (end > len) return done(ParseStatus.malformed);
    off += 40;
    for (let i = 0; i < MAX_IPV6_EXT; i++) {
      if (!IPV6_EXT.has(nh)) break;
      if (off > MAX_HDR_OFF) return done(ParseStatus.malformed);
      if (off + 8 > len || off + 8 > end) return done(ParseStatus.malformed);
      const hl = nh === 44 ? 8 : nh === 51 ? (frame[off + 1]! + 2) * 4 : (frame[off + 1]! + 1) * 8;
      if (off + hl > end) return done(ParseStatus.malformed);
      if (nh === 44 && u16(off + 2) & 0xfff8) return done(ParseStatus.fragment);
      nh = frame[off]!;
      off += hl;
    }
    if (IPV6_EXT.has(nh)) return done(ParseStatus.malformed);
    return done(parseL4(frame, off, end - off, nh, p));
  }
  return done(ParseStatus.nonIp);
}

function parseL4(frame: Uint8Array, off: number, l4Len: number, proto: number, p: ParsedPacket): number {
  if (off > MAX_HDR_OFF) return ParseStatus.malformed;
  const len = frame.length;
  const u16 = (o: number) => (frame[o]! << 8) | frame[o + 1]!;
  p.proto = proto;
  if (proto === 6) {
    if (l4Len < 20 || off + 20 > len) return ParseStatus.malformed;
    const doff = (frame[off + 12]! >> 4) * 4;
    if (doff < 20 || doff > l4Len) return ParseStatus.malformed;
    p.sport = u16(off);
    p.dport = u16(off + 2);
    p.tcpFlags = frame[off + 13]!;
    p.ack = ((frame[off + 8]! << 24) | (frame[off + 9]! << 16) | (frame[off + 10]! << 8) | frame[off + 11]!) >>> 0;
    p.win = u16(off + 14);
    p.l4Hdr = doff;
    p.payload = l4Len - doff;
    p.payOff = off + doff;
    return ParseStatus.ok;
  }
  if (proto === 17) {
    if (l4Len < 8 || off + 8 > len) return ParseStatus.malformed;
    p.sport = u16(off);
    p.dport = u16(off + 2);
    p.l4Hdr = 8;
    p.payload = l4Len - 8;
    return ParseStatus.ok;
  }
  if ((proto === 1 && p.family === 4) || (proto === 58 && p.family === 6)) {
    if (l4Len < 8 || off + 8 > len) return ParseStatus.malformed;
    p.l4Hdr = 8;
    p.payload = l4Len - 8;
    return ParseStatus.ok;
  }
  return ParseStatus.otherL4;
}

/** -1/0/1, big-endian byte order (addr_cmp in C). */
function addrCmp(x: Uint8Array, y: Uint8Array, len: number): number {
  for (let i = 0; i < len; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

interface FlowEntry {
  family: 4 | 6;
  proto: number;
  aAddr: Uint8Array;
  bAddr: Uint8Array;
  aPort: number;
  bPort: number;
  acc: FlowAcc;
}

export interface BlockEntry {
  expiresNs: bigint;
  reason: number;
  hits: bigint;
  /** the first packet it dropped; 0n = none yet (as the kernel's first_drop_ns) */
  firstDropNs: bigint;
}

interface AllowPrefix {
  family: 4 | 6;
  addr: Uint8Array;
  prefixLen: number;
}

const U32_MAX = 0xffffffff;

/** The reference data plane. Feed packets in capture order with `process`; ended flows collect in `records`. */
export class ReferenceDataPlane {
  readonly records: FlowRecord[] = [];
  readonly counters: bigint[] = new Array<bigint>(NUM_COUNTERS).fill(0n);
  /** Insertion-ordered, like nothing in the kernel: compare records as sets. */
  private readonly flows = new Map<string, FlowEntry>();
  /** Canonical key -> µs of its FIN/RST end (the kernel's closed4/closed6 LRU maps). */
  private readonly closed = new Map<string, bigint>();
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly allows: AllowPrefix[] = [];
  /** Per-source context (srcctx): no eviction here, so the kernel's map must not fill in a test. */
  private readonly contexts = new SourceContexts(() => this.count(Counter.ctx_new));
  readonly cfg: DataPlaneConfig;

  constructor(cfg: Partial<DataPlaneConfig> = {}) {
    this.cfg = { ...DEFAULT_CONFIG, ...cfg };
  }

  get liveFlows(): number {
    return this.flows.size;
  }

  block(family: 4 | 6, addr: Uint8Array, reason: number, expiresNs = 0n): void {
    this.blocks.set(blockKey(family, addr), { expiresNs, reason, hits: 0n, firstDropNs: 0n });
  }

  allow(family: 4 | 6, addr: Uint8Array, prefixLen: number): void {
    this.allows.push({ family, addr: addr.slice(), prefixLen });
  }

  allowCidr(cidr: string): void {
    const c = parseCidr(cidr);
    this.allow(c.family, c.bytes, c.prefixLen);
  }

  blockAddr(addr: string, reason: number, expiresNs = 0n): void {
    const a = parseIp(addr);
    this.block(a.family, a.bytes, reason, expiresNs);
  }

  private count(idx: number, v = 1n): void {
    this.counters[idx] = this.counters[idx]! + v;
  }

  private verdict(action: number, len: number): number {
    if (action === XDP_DROP) {
      this.count(Counter.pkts_dropped);
      this.count(Counter.bytes_dropped, BigInt(len));
    } else {
      this.count(Counter.pkts_passed);
      this.count(Counter.bytes_passed, BigInt(len));
    }
    return action;
  }

  /** One frame at time `nowNs`; returns XDP_PASS or XDP_DROP (xids_xdp). */
  process(frame: Uint8Array, nowNs: bigint): number {
    const len = frame.length;
    this.count(Counter.pkts_seen);
    this.count(Counter.bytes_seen, BigInt(len));
    const p = parsePacket(frame);
    if (p.status === ParseStatus.nonIp) {
      this.count(Counter.non_ip);
      return this.verdict(XDP_PASS, len);
    }
    let allow = false;
    if (p.l3ok) {
      allow = this.isAllowed(p);
      if (allow) this.count(Counter.allowed);
      else {
        const r = this.blockedReason(p, nowNs);
        if (r !== null) {
          this.count(Counter.drop_blocked);
          this.count(Counter.drop_reason_base + (r < MAX_BLOCK_REASONS ? r : MAX_BLOCK_REASONS - 1));
          return this.verdict(XDP_DROP, len);
        }
      }
    }
    if (p.status === ParseStatus.malformed) {
      this.count(Counter.malformed);
      if (this.cfg.dropMalformed && !allow) {
        this.count(Counter.drop_malformed);
        return this.verdict(XDP_DROP, len);
      }
      return this.verdict(XDP_PASS, len);
    }
    if (p.status === ParseStatus.fragment) {
      this.count(Counter.fragment);
      return this.verdict(XDP_PASS, len);
    }
    if (p.status === ParseStatus.otherL4) {
      this.count(Counter.other_l4);
      return this.verdict(XDP_PASS, len);
    }
    if (this.cfg.trackFlows) this.trackFlow(frame, p, nowNs / 1000n);
    return this.verdict(XDP_PASS, len);
  }

  private isAllowed(p: ParsedPacket): boolean {
    for (const a of this.allows) {
      if (a.family !== p.family) continue;
      let bits = a.prefixLen;
      let ok = true;
      for (let i = 0; bits > 0 && ok; i++, bits -= 8) {
        const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
        if ((a.addr[i]! & mask) !== (p.src[i]! & mask)) ok = false;
      }
      if (ok) return true;
    }
    return false;
  }

  private blockedReason(p: ParsedPacket, now: bigint): number | null {
    const k = blockKey(p.family as 4 | 6, p.src);
    const v = this.blocks.get(k);
    if (!v) return null;
    if (v.expiresNs !== 0n && now >= v.expiresNs) {
      this.blocks.delete(k);
      this.count(Counter.block_expired);
      return null;
    }
    v.hits += 1n;
    if (v.firstDropNs === 0n) v.firstDropNs = now;
    return v.reason;
  }

  private timeoutReason(a: FlowAcc, nowUs: bigint): number {
    if (satSub(nowUs, a.firstUs) > this.cfg.activeTimeoutNs / 1000n) return EndReason.active;
    if (satSub(nowUs, a.firstUs + BigInt(a.iatTotal)) > this.cfg.idleTimeoutNs / 1000n) return EndReason.idle;
    return EndReason.none;
  }

  private trackFlow(frame: Uint8Array, p: ParsedPacket, nowUs: bigint): void {
    const alen = p.family === 4 ? 4 : 16;
    const c = addrCmp(p.src, p.dst, alen);
    const fromB = c > 0 || (c === 0 && p.sport > p.dport);
    const e: Omit<FlowEntry, "acc"> = fromB
      ? { family: p.family as 4 | 6, proto: p.proto, aAddr: p.dst.slice(0, alen), bAddr: p.src.slice(0, alen), aPort: p.dport, bPort: p.sport }
      : { family: p.family as 4 | 6, proto: p.proto, aAddr: p.src.slice(0, alen), bAddr: p.dst.slice(0, alen), aPort: p.sport, bPort: p.dport };
    const key = `${e.family}|${e.proto}|${hex(e.aAddr)}|${hex(e.bAddr)}|${e.aPort}|${e.bPort}`;
    let entry = this.flows.get(key);
    if (entry) {
      const a = entry.acc;
      let why = this.timeoutReason(a, nowUs);
      const fwd = ((a.flags & FL_FWD_IS_B) !== 0) === fromB;
      if (why === EndReason.none && fwd && wouldOverflow(a, p, nowUs)) why = EndReason.overflow;
      if (why !== EndReason.none) {
        this.endFlow(entry, why, nowUs);
        entry.acc = accInit(p, nowUs, fromB);
        this.count(Counter.flows_started);
        this.contexts.flowStart(p.family as 4 | 6, p.src, p.dst, p.dport, nowUs);
      } else if (fwd) {
        accAdd(a, p, nowUs);
      }
    } else {
      if (this.isTail(key, p, nowUs)) {
        this.count(Counter.tail_absorbed);
        return;
      }
      entry = { ...e, acc: accInit(p, nowUs, fromB) };
      this.flows.set(key, entry);
      this.count(Counter.flows_started);
      this.contexts.flowStart(p.family as 4 | 6, p.src, p.dst, p.dport, nowUs);
    }
    const a = entry.acc;
    if (p.proto === 6 && p.payload > 0 && !(a.flags & FL_SCANNED) && ((a.flags & FL_FWD_IS_B) !== 0) === fromB) {
      Object.assign(a, scanPayload(frame.subarray(p.payOff, p.payOff + p.payload)));
      a.flags |= FL_SCANNED;
    }
    let endr: number = EndReason.none;
    if (p.proto === 6 && p.tcpFlags & TCP_RST) endr = EndReason.rst;
    else if (p.proto === 6 && p.tcpFlags & TCP_FIN) endr = EndReason.fin;
    else if (this.cfg.earlyEndPkts && entry.acc.n >= this.cfg.earlyEndPkts) endr = EndReason.early;
    if (endr !== EndReason.none) {
      this.endFlow(entry, endr, nowUs);
      this.flows.delete(key);
      if (this.cfg.tailAbsorbNs > 0n && endr !== EndReason.early) this.closed.set(key, nowUs);
    }
  }

  private isTail(key: string, p: ParsedPacket, nowUs: bigint): boolean {
    if (this.cfg.tailAbsorbNs === 0n || p.proto !== 6 || p.tcpFlags & TCP_SYN || p.payload !== 0) return false;
    const at = this.closed.get(key);
    return at !== undefined && satSub(nowUs, at) <= this.cfg.tailAbsorbNs / 1000n;
  }

  private endFlow(e: FlowEntry, reason: number, nowUs: bigint): void {
    this.count(Counter.flows_ended);
    this.count(Counter.end_base + (reason & 7));
    const r = makeRecord(e, reason);
    const { context, ackedPerFlow } = this.contexts.flowEnd(r.family as 4 | 6, r.src, r.dstPort, r.proto, reason, e.acc, nowUs);
    r.features.push(...context, ...payloadFeatures(e.acc), BigInt(e.acc.acked), ackedPerFlow);
    this.records.push(r);
    this.count(Counter.records_emitted);
  }

  /** xids_sweep: end timed-out flows (expire) or every flow (flush, reason eoc) at time nowNs. */
  sweep(nowNs: bigint, mode: number): number {
    const nowUs = nowNs / 1000n;
    let ended = 0;
    for (const [key, e] of this.flows) {
      const why = mode === SweepMode.flush ? EndReason.eoc : this.timeoutReason(e.acc, nowUs);
      if (why === EndReason.none) continue;
      this.endFlow(e, why, nowUs);
      this.flows.delete(key);
      ended++;
    }
    return ended;
  }
}

function blockKey(family: 4 | 6, addr: Uint8Array): string {
  return `${family}|${hex(addr.subarray(0, family === 4 ? 4 : 16))}`;
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function accInit(p: ParsedPacket, nowUs: bigint, fwdIsB: boolean): FlowAcc {
  const tcp = p.proto === 6;
  const a: FlowAcc = {
    firstUs: nowUs,
    sumP2: BigInt(p.payload) * BigInt(p.payload),
    sumG2: 0n,
    iatTotal: 0,
    n: 1,
    sumP: p.payload,
    hdrSum: p.l4Hdr,
    gapMax: 0,
    gapMin: 0,
    actData: p.payload > 0 ? 1 : 0,
    ackBase: 0,
    acked: 0,
    pMax: p.payload,
    pMin: p.payload,
    initWin: tcp ? p.win : 0,
    psh: tcp && p.tcpFlags & TCP_PSH ? 1 : 0,
    urg: tcp && p.tcpFlags & TCP_URG ? 1 : 0,
    segMin: p.l4Hdr,
    lineLen: 0,
    lineMeta: 0,
    encMeta: 0,
    flags:
      (fwdIsB ? FL_FWD_IS_B : 0) |
      (tcp && p.tcpFlags & TCP_RST ? FL_RST : 0) |
      (tcp && (p.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN ? FL_SYN0 : 0),
  };
  if (tcp && p.tcpFlags & TCP_ACK) accAck(a, p.ack);
  return a;
}

function wouldOverflow(a: FlowAcc, p: ParsedPacket, nowUs: bigint): boolean {
  const tcp = p.proto === 6;
  return (
    a.n === U32_MAX ||
    a.sumP + p.payload > U32_MAX ||
    a.hdrSum + p.l4Hdr > U32_MAX ||
    satSub(nowUs, a.firstUs) > BigInt(U32_MAX) ||
    (tcp && (p.tcpFlags & TCP_PSH) !== 0 && a.psh === 0xffff) ||
    (tcp && (p.tcpFlags & TCP_URG) !== 0 && a.urg === 0xffff)
  );
}

function accAdd(a: FlowAcc, p: ParsedPacket, nowUs: bigint): void {
  const last = a.firstUs + BigInt(a.iatTotal);
  const gapB = satSub(nowUs, last);
  const gap = Number(gapB); // < 2^32: the overflow rule ends the flow first
  if (a.n === 1 || gap > a.gapMax) a.gapMax = gap;
  if (a.n === 1 || gap < a.gapMin) a.gapMin = gap;
  a.iatTotal += gap;
  a.sumG2 += gapB * gapB;
  a.n += 1;
  a.sumP += p.payload;
  a.sumP2 += BigInt(p.payload) * BigInt(p.payload);
  a.hdrSum += p.l4Hdr;
  if (p.payload > 0) a.actData += 1;
  if (p.payload > a.pMax) a.pMax = p.payload;
  if (p.payload < a.pMin) a.pMin = p.payload;
  if (p.l4Hdr < a.segMin) a.segMin = p.l4Hdr;
  if (p.proto === 6) {
    if (p.tcpFlags & TCP_PSH) a.psh += 1;
    if (p.tcpFlags & TCP_URG) a.urg += 1;
    if (p.tcpFlags & TCP_RST) a.flags |= FL_RST;
    if (p.tcpFlags & TCP_ACK) accAck(a, p.ack);
  }
}

function makeRecord(e: FlowEntry, reason: number): FlowRecord {
  const a = e.acc;
  const fwdIsB = (a.flags & FL_FWD_IS_B) !== 0;
  const dstPort = fwdIsB ? e.aPort : e.bPort;
  return {
    family: e.family,
    proto: e.proto,
    endReason: reason,
    verdict: Verdict.none,
    srcPort: fwdIsB ? e.bPort : e.aPort,
    dstPort,
    src: (fwdIsB ? e.bAddr : e.aAddr).slice(),
    dst: (fwdIsB ? e.aAddr : e.bAddr).slice(),
    firstUs: a.firstUs,
    lastUs: a.firstUs + BigInt(a.iatTotal),
    score: 0,
    modelSlot: 0,
    modelVersion: 0,
    blockAction: 0,
    evidence: 0,
    blockError: 0,
    features: deriveFeatures(a, dstPort, e.proto),
  };
}
