// Quantisation by enlargement: every weight, bias and the scaler are multiplied by s = 2^b and
// rounded, so the kernel needs only shifts, adds, multiplies and one unsigned division. b comes
// from the ECDF rule, and an interval analysis over the declared feature ranges proves that no
// accumulator can overflow; an artifact that cannot be proved is rejected.
import { log2q8 } from "./log2q8.ts";
import type { FloatMlp } from "./float.ts";
import { I32_MAX, I32_MIN, type Int32Params } from "./int32.ts";

export const DEFAULT_ALPHA = 0.005;
export const B_MIN = 1;
export const B_MAX = 16;

/** Round half away from zero (symmetric for negative parameters). */
export function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

export interface BitsChoice {
  b: number;
  /** Fraction of parameters with |p| <= 1/s at the chosen b. */
  fraction: number;
  /** False when even b = 16 leaves more than alpha of the parameters at or below 1/s. */
  met: boolean;
  /** Fraction at every candidate b, for the report. */
  ecdf: { b: number; fraction: number }[];
}

/** ECDF rule: the smallest s = 2^b with Pr(|p| <= 1/s) <= alpha, b in 1..16. */
export function chooseBits(params: ArrayLike<number>, alpha = DEFAULT_ALPHA): BitsChoice {
  if (params.length === 0) throw new Error("chooseBits: no parameters");
  const abs = Float64Array.from(params, Math.abs);
  const ecdf: { b: number; fraction: number }[] = [];
  let chosen: { b: number; fraction: number } | null = null;
  for (let b = B_MIN; b <= B_MAX; b++) {
    const t = 1 / 2 ** b;
    let c = 0;
    for (let i = 0; i < abs.length; i++) if (abs[i]! <= t) c++;
    const fraction = c / abs.length;
    ecdf.push({ b, fraction });
    if (!chosen && fraction <= alpha) chosen = { b, fraction };
  }
  if (chosen) return { ...chosen, met: true, ecdf };
  return { b: B_MAX, fraction: ecdf[ecdf.length - 1]!.fraction, met: false, ecdf };
}

export function allParams(m: FloatMlp): number[] {
  return m.layers.flatMap((L) => [...L.w, ...L.bias]);
}

export class QuantizeError extends Error {}

export function quantize(m: FloatMlp, features: number[], b: number): Int32Params {
  const s = 2 ** b;
  const toI32 = (v: number, what: string) => {
    const q = roundHalfAway(v * s);
    if (q < I32_MIN || q > I32_MAX) throw new QuantizeError(`${what} = ${v} does not fit s32 at b = ${b}`);
    return q;
  };
  return {
    features: features.slice(),
    xmax: Array.from(m.xmax),
    ...(m.log2 ? { log2: m.log2.slice() } : {}),
    mean_q: Array.from(m.mean, (v) => roundHalfAway(v * s)),
    std_q: Array.from(m.std, (v) => Math.max(1, roundHalfAway(v * s))),
    b,
    layers: m.layers.map((L, l) => ({
      in: L.in,
      out: L.out,
      w_q: Int32Array.from(L.w, (v, i) => toI32(v, `layer ${l} weight ${i}`)),
      bias_q: Int32Array.from(L.bias, (v, j) => toI32(v, `layer ${l} bias ${j}`)),
    })),
  };
}

export interface OverflowReport {
  ok: boolean;
  /** Largest (|num| << b) over the inputs; must be < 2^64. */
  maxShiftedNum: string;
  /** Per layer: the largest possible |acc|; must be < 2^63. */
  maxAcc: string[];
  /** log2 of the margin to 2^63 at the worst layer (positive = safe). */
  headroomBits: number;
  problems: string[];
}

/**
 * Interval analysis in BigInt: inputs range over [0, xmax], each stage's magnitude bound feeds the
 * next (sat32 caps every activation at 2^31, ReLU keeps the same bound).
 */
export function overflowAnalysis(p: Int32Params): OverflowReport {
  const b = BigInt(p.b);
  const TWO31 = 1n << 31n, TWO63 = 1n << 63n, TWO64 = 1n << 64n;
  const problems: string[] = [];
  let maxShifted = 0n;
  let bound: bigint[] = p.features.map((_, i) => {
    const xmax = BigInt(p.xmax[i]!);
    if (xmax > TWO31) problems.push(`input ${i}: xmax ${xmax} exceeds 2^31`);
    const mean = BigInt(p.mean_q[i]!);
    // The largest value standardised: xmax, or its log2q8 (monotone, so the bound holds).
    const top = p.log2?.[i] ? BigInt(log2q8(Number(xmax > TWO31 ? TWO31 : xmax))) : xmax;
    const lo = -mean, hi = (top << b) - mean;
    const absNum = (lo < 0n ? -lo : lo) > (hi < 0n ? -hi : hi) ? (lo < 0n ? -lo : lo) : hi < 0n ? -hi : hi;
    const shifted = absNum << b;
    if (shifted > maxShifted) maxShifted = shifted;
    if (shifted >= TWO64) problems.push(`input ${i}: (|num| << b) can reach ${shifted} >= 2^64`);
    const z = shifted / BigInt(p.std_q[i]!);
    return z > TWO31 ? TWO31 : z;
  });
  const maxAcc: string[] = [];
  let worst = 0n;
  p.layers.forEach((L, l) => {
    let layerMax = 0n;
    const next: bigint[] = [];
    for (let j = 0; j < L.out; j++) {
      let acc = BigInt(Math.abs(L.bias_q[j]!)) << b;
      for (let k = 0; k < L.in; k++) acc += BigInt(Math.abs(L.w_q[j * L.in + k]!)) * bound[k]!;
      if (acc > layerMax) layerMax = acc;
      const y = acc >> b;
      next.push(y > TWO31 ? TWO31 : y);
    }
    if (layerMax >= TWO63) problems.push(`layer ${l}: |acc| can reach ${layerMax} >= 2^63`);
    if (layerMax > worst) worst = layerMax;
    maxAcc.push(layerMax.toString());
    bound = next;
  });
  const headroomBits = worst > 0n ? 63 - Math.log2(Number(worst)) : 63;
  return { ok: problems.length === 0, maxShiftedNum: maxShifted.toString(), maxAcc, headroomBits, problems };
}
