// The float MLP: parameters as trained, and its inference (the yardstick the int32 version is
// compared against). Standardisation is part of the model, fitted on the training split only.

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
  layers: DenseLayer[];
}

/** Mean and population std per column over the given rows; std 0 becomes 1 (constant column). */
export function fitScaler(x: Float64Array, k: number): { mean: Float64Array; std: Float64Array } {
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
  for (let i = 0; i < a.length; i++) a[i] = (Math.min(row[offset + i]!, m.xmax[i]!) - m.mean[i]!) / m.std[i]!;
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
