// The feature derivation of bpf/FEATURES.md: the TypeScript twin of xids_derive_features() in
// bpf/xids.bpf.c. Everything is integer arithmetic on BigInt, so it is exact for the whole declared
// range (the kernel does the same in 128-bit pieces); the two must agree bit for bit.
import { CONTEXT_ACKED_FEATURE_NAME, CONTEXT_FEATURE_NAMES, FL_ACK } from "./context.ts";

/** Forward-direction accumulators of one flow: struct xids_flow_acc in bpf/xids.h. */
export interface FlowAcc {
  firstUs: bigint;
  sumP2: bigint;
  sumG2: bigint;
  /** last forward packet − firstUs, µs (= Σ gaps). */
  iatTotal: number;
  n: number;
  sumP: number;
  hdrSum: number;
  gapMax: number;
  gapMin: number;
  actData: number;
  /** TCP: acknowledgment number of the first forward packet with ACK (set with FL_ACK), */
  ackBase: number;
  /** ... and the furthest later one minus it, mod 2^32, advances < 2^31 and steps <= ACK_MAX_STEP only (FEATURES.md 35). */
  acked: number;
  pMax: number;
  pMin: number;
  initWin: number;
  psh: number;
  urg: number;
  segMin: number;
  flags: number;
  /** First forward TCP payload (FEATURES.md 32..34; 0 until FL_SCANNED): its first line's length, */
  lineLen: number;
  /** ... that line's metacharacters, */
  lineMeta: number;
  /** ... and the %-encoded metacharacters in its scan window. */
  encMeta: number;
}

export const FL_FWD_IS_B = 0x01;
export const FL_RST = 0x02;
export const FL_SCANNED = 0x20;
export { FL_ACK, FL_SYN0 } from "./context.ts";

/** CIC-IDS-2017 ("improved") names of the flow's own features, FEATURES.md 0..21. */
export const FLOW_FEATURE_NAMES = [
  "Dst Port",
  "Protocol",
  "Total Fwd Packet",
  "Total Length of Fwd Packet",
  "Fwd Packet Length Max",
  "Fwd Packet Length Min",
  "Fwd Packet Length Mean",
  "Fwd Packet Length Std",
  "Fwd IAT Total",
  "Fwd IAT Mean",
  "Fwd IAT Std",
  "Fwd IAT Max",
  "Fwd IAT Min",
  "Fwd PSH Flags",
  "Fwd URG Flags",
  "Fwd RST Flags",
  "Fwd Header Length",
  "Fwd Packets/s",
  "FWD Init Win Bytes",
  "Fwd Act Data Pkts",
  "Fwd Seg Size Min",
  "Fwd Segment Size Avg",
] as const;

/** Names of the first-payload features, FEATURES.md 32..34. */
export const PAYLOAD_FEATURE_NAMES = ["Fwd First Line Length", "Fwd First Line Meta", "Fwd First Payload Encoded Meta"] as const;

/** Names of the acknowledged group, FEATURES.md 35..36: what the flow's forward ACKs acknowledged, and per flow of its source. */
export const ACKED_FEATURE_NAMES = ["Fwd Acked Bytes", CONTEXT_ACKED_FEATURE_NAME] as const;

/** Every feature of a flow record, in model input order: the flow's own, its source's context, its
 *  first payload, what it acknowledged. */
export const FEATURE_NAMES = [...FLOW_FEATURE_NAMES, ...CONTEXT_FEATURE_NAMES, ...PAYLOAD_FEATURE_NAMES, ...ACKED_FEATURE_NAMES] as const;

export const NUM_FLOW_FEATURES = FLOW_FEATURE_NAMES.length; // 22
export const NUM_FEATURES = FEATURE_NAMES.length; // 37

/** Bytes of the first forward TCP payload the scan reads (XIDS_SCAN_WINDOW). */
export const SCAN_WINDOW = 512;
/** The metacharacters of FEATURES.md 32..34: " ' ( ) ; < > \ ` */
const META = new Set([0x22, 0x27, 0x28, 0x29, 0x3b, 0x3c, 0x3e, 0x5c, 0x60]);

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : 16;
}

/** The scan of a flow's first forward TCP payload (xids_scan_payload in bpf/xids.bpf.c). */
export function scanPayload(payload: Uint8Array): { lineLen: number; lineMeta: number; encMeta: number } {
  const w = payload.subarray(0, SCAN_WINDOW);
  let lineLen = 0, lineMeta = 0, encMeta = 0, inLine = true;
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (c === 0x0d || c === 0x0a) inLine = false;
    if (inLine) {
      lineLen++;
      if (META.has(c)) lineMeta++;
    }
    if (c === 0x25 && i + 2 < w.length) {
      const hi = hexVal(w[i + 1]!), lo = hexVal(w[i + 2]!);
      const v = hi * 16 + lo;
      if (hi < 16 && lo < 16 && (v === 0x25 || META.has(v))) encMeta++;
    }
  }
  return { lineLen, lineMeta, encMeta };
}

/** Features 32..34 of a flow's accumulators. */
export function payloadFeatures(a: FlowAcc): bigint[] {
  return [BigInt(a.lineLen), BigInt(a.lineMeta), BigInt(a.encMeta)];
}

/** floor(sqrt(x)) for x ≥ 0 (Newton on BigInt; exact). */
export function isqrt(x: bigint): bigint {
  if (x < 0n) throw new RangeError("isqrt of a negative number");
  if (x < 2n) return x;
  let r = BigInt(Math.floor(Math.sqrt(Number(x))));
  // Correct the float estimate to the exact floor.
  while (r * r > x) r -= 1n;
  while ((r + 1n) * (r + 1n) <= x) r += 1n;
  return r;
}

/** floor((m·Σx² − (Σx)²) / (m·(m−1))) for m ≥ 2; 0 otherwise. */
export function sampleVariance(m: bigint, sum: bigint, sum2: bigint): bigint {
  if (m < 2n) return 0n;
  return (m * sum2 - sum * sum) / (m * (m - 1n));
}

/** XIDS_ACK_MAX_STEP (bpf/xids.h): the furthest one forward ACK may move `acked` on (16 MiB). */
export const ACK_MAX_STEP = 0x100_0000;

/** A forward ACK (acc_ack in bpf/xids.bpf.c): the first sets the base, a later advance of less
 *  than 2^31 extends `acked`, unless it jumps more than ACK_MAX_STEP past it (a forged number). */
export function accAck(a: FlowAcc, ack: number): void {
  const d = (ack - a.ackBase) >>> 0;
  if (!(a.flags & FL_ACK)) {
    a.flags |= FL_ACK;
    a.ackBase = ack;
  } else if (d < 0x8000_0000 && d > a.acked && d - a.acked <= ACK_MAX_STEP) {
    a.acked = d;
  }
}

/** Features 0..21 (xids_derive_features); the context's 22..31 and 36 come from context.ts, 32..34 from payloadFeatures, 35 is acc.acked. */
export function deriveFeatures(a: FlowAcc, dstPort: number, proto: number): bigint[] {
  const n = BigInt(a.n);
  const iat = BigInt(a.iatTotal);
  const sumP = BigInt(a.sumP);
  const mean = n > 0n ? sumP / n : 0n;
  return [
    BigInt(dstPort),
    BigInt(proto),
    n,
    sumP,
    BigInt(a.pMax),
    BigInt(a.pMin),
    mean,
    n < 2n ? 0n : isqrt(sampleVariance(n, sumP, a.sumP2)),
    iat,
    n < 2n ? 0n : iat / (n - 1n),
    n < 3n ? 0n : isqrt(sampleVariance(n - 1n, iat, a.sumG2)),
    n < 2n ? 0n : BigInt(a.gapMax),
    n < 2n ? 0n : BigInt(a.gapMin),
    BigInt(a.psh),
    BigInt(a.urg),
    a.flags & FL_RST ? 1n : 0n,
    BigInt(a.hdrSum),
    iat > 0n ? (n * 1_000_000n) / iat : 0n,
    BigInt(a.initWin),
    BigInt(a.actData),
    BigInt(a.segMin),
    mean,
  ];
}
