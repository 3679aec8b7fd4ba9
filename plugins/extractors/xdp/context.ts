// The source context of FEATURES.md 22..31 and 36: the TypeScript twin of bpf/context.h, line by line
// (same windows, same sketches and hashes, same integer arithmetic), so the kernel can be checked
// against it record by record.
import type { FlowAcc } from "./features.ts";

export const FL_SYN0 = 0x04;
export const FL_ACK = 0x08;
const END_RST = 2;
const SAME_PORT = 16;

/** cfg_ctx_short_us / cfg_ctx_long_us: 1 s and 10 s. */
export const CTX_SHORT_US = 1_000_000n;
export const CTX_LONG_US = 10_000_000n;

/** The names of features 22..31 (FEATURES.md), in order. */
export const CONTEXT_FEATURE_NAMES = [
  "Src Flows 1s",
  "Src Flows 10s",
  "Src Dst Ports 10s",
  "Src Dst Addrs 10s",
  "Src Same Port Flows 10s",
  "Src Ended Flows 10s",
  "Src No-Handshake Flows 10s",
  "Src RST Flows 10s",
  "Src Short Flows 10s",
  "Src Payload per Flow 10s",
] as const;

/** The name of feature 36, the context's one of the acknowledged group (FEATURES.md 35..36). */
export const CONTEXT_ACKED_FEATURE_NAME = "Src Acked per Flow 10s";

interface Window {
  started: number;
  ended: number;
  noHandshake: number;
  rst: number;
  shortFlows: number;
  payload: bigint;
  acked: bigint;
  ports: [bigint, bigint];
  addrs: bigint;
  samePort: number[];
}

interface Pending {
  atUs: bigint;
  ended: number;
  noHandshake: number;
  rst: number;
  shortFlows: number;
  payload: bigint;
  acked: bigint;
}

interface SourceContext {
  shortStartUs: bigint;
  longStartUs: bigint;
  shortCur: number;
  shortPrev: number;
  cur: Window;
  prev: Window;
  /** Ends at one instant, counted once the clock moves on (flows ending together see the same history). */
  pending: Pending;
}

const noPending = (atUs: bigint): Pending => ({ atUs, ended: 0, noHandshake: 0, rst: 0, shortFlows: 0, payload: 0n, acked: 0n });

const emptyWindow = (): Window => ({ started: 0, ended: 0, noHandshake: 0, rst: 0, shortFlows: 0, payload: 0n, acked: 0n, ports: [0n, 0n], addrs: 0n, samePort: new Array<number>(SAME_PORT).fill(0) });

/** Fibonacci hashing in 32 bits: the top `bits` bits of x · 2654435761 mod 2^32. */
export function ctxHash(x: number, bits: number): number {
  return Math.imul(x, 2654435761) >>> 0 >>> (32 - bits);
}

/** The 32-bit big-endian words of an address, XORed. */
export function ctxFold(addr: Uint8Array, family: 4 | 6): number {
  const word = (i: number) => ((addr[i]! << 24) | (addr[i + 1]! << 16) | (addr[i + 2]! << 8) | addr[i + 3]!) >>> 0;
  let w = word(0);
  if (family === 6) w = (w ^ word(4) ^ word(8) ^ word(12)) >>> 0;
  return w;
}

function popcount(x: bigint): number {
  let n = 0;
  for (; x; x &= x - 1n) n++;
  return n;
}

/** a − b, or 0 when b > a (the kernel's sat_sub). */
export function satSub(a: bigint, b: bigint): bigint {
  return a > b ? a - b : 0n;
}

/** The previous bucket's weight in 1/65536: floor((W − elapsed) · 65536 / W), 0 past W. */
function weight(startUs: bigint, w: bigint, nowUs: bigint): bigint {
  const e = satSub(nowUs, startUs);
  return e < w ? ((w - e) << 16n) / w : 0n;
}

/** cur + floor(prev · weight / 65536). */
function est(cur: number | bigint, prev: number | bigint, wt: bigint): bigint {
  return BigInt(cur) + ((BigInt(prev) * wt) >> 16n);
}

export class SourceContexts {
  private readonly bySource = new Map<string, SourceContext>();

  constructor(
    /** Called for each context created (the kernel's ctx_new counter). */
    private readonly onNew: () => void = () => {},
    private readonly shortUs = CTX_SHORT_US,
    private readonly longUs = CTX_LONG_US,
  ) {}

  get size(): number {
    return this.bySource.size;
  }

  private get(family: 4 | 6, src: Uint8Array, nowUs: bigint): SourceContext {
    const key = `${family}|${Array.from(src.subarray(0, family === 4 ? 4 : 16)).join(".")}`;
    let c = this.bySource.get(key);
    if (!c) {
      c = { shortStartUs: nowUs, longStartUs: nowUs, shortCur: 0, shortPrev: 0, cur: emptyWindow(), prev: emptyWindow(), pending: noPending(nowUs) };
      this.bySource.set(key, c);
      this.onNew();
    }
    return c;
  }

  private roll(c: SourceContext, nowUs: bigint): void {
    if (c.pending.atUs !== nowUs) {
      c.cur.ended += c.pending.ended;
      c.cur.noHandshake += c.pending.noHandshake;
      c.cur.rst += c.pending.rst;
      c.cur.shortFlows += c.pending.shortFlows;
      c.cur.payload += c.pending.payload;
      c.cur.acked += c.pending.acked;
      c.pending = noPending(nowUs);
    }
    const es = satSub(nowUs, c.shortStartUs), el = satSub(nowUs, c.longStartUs);
    if (es >= this.shortUs) {
      if (es < 2n * this.shortUs) {
        c.shortPrev = c.shortCur;
        c.shortStartUs += this.shortUs;
      } else {
        c.shortPrev = 0;
        c.shortStartUs = nowUs;
      }
      c.shortCur = 0;
    }
    if (el >= this.longUs) {
      if (el < 2n * this.longUs) {
        c.prev = c.cur;
        c.longStartUs += this.longUs;
      } else {
        c.prev = emptyWindow();
        c.longStartUs = nowUs;
      }
      c.cur = emptyWindow();
    }
  }

  /** xids_ctx_flow_start: the source started a flow to (dst, dport). */
  flowStart(family: 4 | 6, src: Uint8Array, dst: Uint8Array, dport: number, nowUs: bigint): void {
    const c = this.get(family, src, nowUs);
    this.roll(c, nowUs);
    const pb = ctxHash(dport, 7), ab = ctxHash(ctxFold(dst, family), 6), sb = ctxHash(dport, 4);
    c.shortCur += 1;
    c.cur.started += 1;
    const word = (pb >> 6) & 1;
    c.cur.ports[word] = c.cur.ports[word]! | (1n << BigInt(pb & 63));
    c.cur.addrs |= 1n << BigInt(ab & 63);
    if (c.cur.samePort[sb]! < 0xffff) c.cur.samePort[sb]! += 1;
  }

  /** xids_ctx_flow_end: features 22..31 and 36 (the history before this instant plus the flow),
   *  then counts how it ended. */
  flowEnd(family: 4 | 6, src: Uint8Array, dport: number, proto: number, endReason: number, a: FlowAcc, nowUs: bigint): { context: bigint[]; ackedPerFlow: bigint } {
    const c = this.get(family, src, nowUs);
    this.roll(c, nowUs);
    const noHs = proto === 6 && a.flags & FL_SYN0 && !(a.flags & FL_ACK) ? 1 : 0;
    const rst = endReason === END_RST ? 1 : 0;
    const shrt = a.n <= 3 ? 1 : 0;
    const wl = weight(c.longStartUs, this.longUs, nowUs), ws = weight(c.shortStartUs, this.shortUs, nowUs), sb = ctxHash(dport, 4);
    const ended = est(c.cur.ended + 1, c.prev.ended, wl);
    const payload = est(c.cur.payload + BigInt(a.sumP), c.prev.payload, wl);
    const acked = est(c.cur.acked + BigInt(a.acked), c.prev.acked, wl);
    const features = [
      est(c.shortCur, c.shortPrev, ws),
      est(c.cur.started, c.prev.started, wl),
      BigInt(popcount(c.cur.ports[0] | c.prev.ports[0]) + popcount(c.cur.ports[1] | c.prev.ports[1])),
      BigInt(popcount(c.cur.addrs | c.prev.addrs)),
      est(c.cur.samePort[sb]!, c.prev.samePort[sb]!, wl),
      ended,
      est(c.cur.noHandshake + noHs, c.prev.noHandshake, wl),
      est(c.cur.rst + rst, c.prev.rst, wl),
      est(c.cur.shortFlows + shrt, c.prev.shortFlows, wl),
      ended > 0n ? payload / ended : 0n,
    ];
    c.pending.ended += 1;
    c.pending.noHandshake += noHs;
    c.pending.rst += rst;
    c.pending.shortFlows += shrt;
    c.pending.payload += BigInt(a.sumP);
    c.pending.acked += BigInt(a.acked);
    return { context: features, ackedPerFlow: ended > 0n ? acked / ended : 0n };
  }
}
