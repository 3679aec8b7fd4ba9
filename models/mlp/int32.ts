// The int32 reference inference: exactly the kernel's arithmetic (models/INT32_SPEC.md), the
// oracle the BPF program is tested against. Products of s32 x s32 exceed 2^53, so the sums use
// doubles only when a bound proves them exact and fall back to BigInt otherwise.
import { log2q8 } from "./log2q8.ts";

export interface Int32Layer {
  in: number;
  out: number;
  /** Row-major [out][in], each a signed 32-bit integer. */
  w_q: Int32Array;
  bias_q: Int32Array;
}

export interface Int32Params {
  /** Indices into the kernel's 22 features, in model input order. */
  features: number[];
  /** Clamp ceiling per input, <= 2^31. */
  xmax: number[];
  /** Per input: standardise log2q8 of the clamped value (step 1b); absent: none. */
  log2?: boolean[];
  /** round(mean * s), signed; |mean_q| <= 2^47 so a JS number holds it exactly. */
  mean_q: number[];
  /** max(1, round(std * s)), unsigned. */
  std_q: number[];
  /** s = 2^b, 1 <= b <= 16. */
  b: number;
  layers: Int32Layer[];
}

export interface Int32Result {
  attack: boolean;
  /** sat32(logit[1] - logit[0]), in units of 1/s. */
  score: number;
  logits: number[];
}

export const I32_MIN = -(2 ** 31);
export const I32_MAX = 2 ** 31 - 1;
const TWO52 = 2 ** 52;
const TWO53 = 2 ** 53;

export function sat32(v: number): number {
  return v < I32_MIN ? I32_MIN : v > I32_MAX ? I32_MAX : v;
}

function sat32Big(v: bigint): number {
  return v < BigInt(I32_MIN) ? I32_MIN : v > BigInt(I32_MAX) ? I32_MAX : Number(v);
}

/** Step 1 + 1b + 2: clamp, log2q8 where declared, then standardise with an unsigned division and the sign restored. */
export function standardise(p: Int32Params, x: ArrayLike<number | bigint>): number[] {
  const s = 2 ** p.b;
  const out = new Array<number>(p.features.length);
  for (let i = 0; i < p.features.length; i++) {
    const raw = x[i]!;
    let xc: number;
    if (typeof raw === "bigint") {
      if (raw < 0n) throw new RangeError(`feature ${i}: ${raw} is negative (features are u64)`);
      xc = raw > BigInt(p.xmax[i]!) ? p.xmax[i]! : Number(raw);
    } else {
      if (!Number.isInteger(raw) || raw < 0) throw new RangeError(`feature ${i}: ${raw} is not a u64 integer (floor it as the kernel does)`);
      xc = Math.min(raw, p.xmax[i]!);
    }
    if (p.log2?.[i]) xc = log2q8(xc);
    const num = xc * s - p.mean_q[i]!; // |num| <= 2^48: exact
    const absShifted = Math.abs(num) * s; // may exceed 2^53: exact only as a power-of-two scaling
    const d = p.std_q[i]!;
    let mag: number;
    if (absShifted < TWO52 && d < TWO52) mag = Math.floor(absShifted / d); // provably exact below 2^52
    else {
      const q = (BigInt(Math.abs(num)) << BigInt(p.b)) / BigInt(d); // u64 division, truncating
      out[i] = sat32Big(num < 0 ? -q : q);
      continue;
    }
    out[i] = sat32(num < 0 ? -mag : mag);
  }
  return out;
}

/** Step 3 for one layer: Σ w·a + (bias << b), arithmetic shift right by b, sat32, optional ReLU. */
export function layerInt32(L: Int32Layer, a: number[], b: number, relu: boolean): number[] {
  const s = 2 ** b;
  const out = new Array<number>(L.out);
  for (let j = 0; j < L.out; j++) {
    const row = j * L.in;
    let bound = Math.abs(L.bias_q[j]!) * s;
    for (let k = 0; k < L.in; k++) bound += Math.abs(L.w_q[row + k]!) * Math.abs(a[k]!);
    let y: number;
    if (bound < TWO53) {
      // Every partial sum is an integer of magnitude <= bound < 2^53: double arithmetic is exact,
      // and floor(acc / 2^b) is the arithmetic right shift.
      let acc = L.bias_q[j]! * s;
      for (let k = 0; k < L.in; k++) acc += L.w_q[row + k]! * a[k]!;
      y = sat32(Math.floor(acc / s));
    } else {
      let acc = BigInt(L.bias_q[j]!) << BigInt(b);
      for (let k = 0; k < L.in; k++) acc += BigInt(L.w_q[row + k]!) * BigInt(a[k]!);
      y = sat32Big(acc >> BigInt(b));
    }
    out[j] = relu && y < 0 ? 0 : y;
  }
  return out;
}

/** The int32 MLP on one feature vector (values of the selected features, in manifest order). */
export function inferInt32(p: Int32Params, x: ArrayLike<number | bigint>): Int32Result {
  if (x.length !== p.features.length) throw new RangeError(`expected ${p.features.length} features, got ${x.length}`);
  let a = standardise(p, x);
  p.layers.forEach((L, l) => { a = layerInt32(L, a, p.b, l < p.layers.length - 1); });
  const l0 = a[0]!, l1 = a[1]!;
  return { attack: l1 > l0, score: sat32(l1 - l0), logits: a };
}
