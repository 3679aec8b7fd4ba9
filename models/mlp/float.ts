// The float MLP: parameters as trained, and its inference (the yardstick the int32 version is
// compared against). Standardisation is part of the model, fitted on the training split only.
import { log2q8 } from "./log2q8.ts";

export interface DenseLayer {
  in: number;
  out: number;
  /** Row-major [out][in]. */
  w: Float64Array;
  bias: Float64Array;
}

export interface FloatMlp {
  mean: Float64Array;
  std: Float64Array;
  /** Clamp ceilings (declared feature ranges), applied before standardising as the kernel does. */
  xmax: Float64Array;
  /** Inputs taken as log2q8 of the clamped value (log2q8.ts); absent: none. */
  log2?: boolean[];
  layers: DenseLayer[];
}

/** One input as the model sees it before standardising: clamped, then log2q8 if so declared. */
export function modelInput(v: number, xmax: number, log2: boolean | undefined): number {
  const c = Math.min(v, xmax);
  return log2 ? log2q8(Math.floor(c)) : c;
}

export type ScalerKind = "standard" | "robust";

/**
 * The kernel computes (x - mean) / std with whatever centre and scale the manifest holds.
 * "standard": mean and population std. "robust": median and interquartile range (std when the
 * IQR is 0), which keeps resolution on the heavy-tailed counters and times where a few huge
 * flows would otherwise squash every ordinary value to ~0.
 */
export function fitScaler(x: Float64Array, k: number, kind: ScalerKind = "standard"): { mean: Float64Array; std: Float64Array } {
  const st = fitStandard(x, k);
  if (kind === "standard") return st;
  const n = x.length / k;
  const mean = new Float64Array(k), std = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const col = Float64Array.from({ length: n }, (_, r) => x[r * k + c]!).sort();
    const q = (p: number) => col[Math.min(n - 1, Math.floor(p * (n - 1)))]!;
    mean[c] = q(0.5);
    const iqr = q(0.75) - q(0.25);
    std[c] = iqr > 0 ? iqr : st.std[c]!;
  }
  return { mean, std };
}

function fitStandard(x: Float64Array, k: number): { mean: Float64Array; std: Float64Array } {
  const n = x.length / k;
  const mean = new Float64Array(k), std = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) mean[c]! += x[r * k + c]!;
  for (let c = 0; c < k; c++) mean[c]! /= n;
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) std[c]! += (x[r * k + c]! - mean[c]!) ** 2;
  for (let c = 0; c < k; c++) { std[c] = Math.sqrt(std[c]! / n); if (!(std[c]! > 0)) std[c] = 1; }
  return { mean, std };
}

/** Logits for one input row (features in the model's order). */
export function inferFloat(m: FloatMlp, row: ArrayLike<number>, offset = 0): Float64Array {
  let a: Float64Array = new Float64Array(m.mean.length);
  for (let i = 0; i < a.length; i++) a[i] = (modelInput(row[offset + i]!, m.xmax[i]!, m.log2?.[i]) - m.mean[i]!) / m.std[i]!;
  m.layers.forEach((L, li) => {
    const o = new Float64Array(L.out);
    for (let j = 0; j < L.out; j++) {
      let s = L.bias[j]!;
      for (let k = 0; k < L.in; k++) s += L.w[j * L.in + k]! * a[k]!;
      o[j] = li < m.layers.length - 1 ? Math.max(0, s) : s;
    }
    a = o;
  });
  return a;
}

/** Float verdict with the same tie rule as the kernel (ties go to benign). */
export function predictFloat(m: FloatMlp, row: ArrayLike<number>, offset = 0): { attack: boolean; score: number; logits: Float64Array } {
  const l = inferFloat(m, row, offset);
  return { attack: l[1]! > l[0]!, score: l[1]! - l[0]!, logits: l };
}
