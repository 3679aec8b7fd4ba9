// Fitting the float MLP the kernel's int32 model is quantised from: clamp ceilings, training,
// and the operating point (the benign bias raised until validation FPR meets the target). The
// training pipeline and the leave-one-out evaluation both fit through here.
import { FEATURES } from "../data/features.ts";
import { computeMetrics, type Metrics } from "../metrics.ts";
import { predictFloat, type FloatMlp, type ScalerKind } from "../mlp/float.ts";
import { trainMlp } from "../mlp/train.ts";
import { progressBar } from "./progress.ts";

export interface MlpFitOptions {
  hidden: number[];
  epochs: number;
  batch: number;
  lr: number;
  l2: number;
  seed: number;
  scaler: ScalerKind;
  /**
   * Clamp ceilings: < 1 uses this quantile of the training values (never above the type limit of
   * FEATURES.md), so a handful of enormous flows do not set the scale; 1 = type limits only.
   */
  xmaxQuantile: number;
  /** The benign logit bias is raised until validation FPR <= this (0 = off). */
  targetFpr: number;
  /** Kernel feature indices taken on a log scale (log2q8) when the model reads them. */
  log2Features?: readonly number[];
  /** Show a progress bar per fit (off when many fits run, as in leave-one-out). */
  progress?: boolean;
}

/** Raise the benign bias so that validation FPR <= target; returns the shift (>= 0). */
export function calibrate(m: FloatMlp, xv: Float64Array, yv: Uint8Array, target: number): number {
  if (target <= 0) return 0;
  const k = m.mean.length;
  const benign: number[] = [];
  for (let i = 0; i < yv.length; i++) if (!yv[i]) benign.push(predictFloat(m, xv, i * k).score);
  benign.sort((a, b) => b - a);
  const allowed = Math.floor(target * benign.length);
  const tau = benign[allowed] ?? 0;
  // A benign row scoring exactly tau must land on the benign side of the tie after the bias
  // addition rounds: nudge by far less than one int32 step (1/s) but more than float error.
  return tau > 0 ? tau + Math.max(1e-9, tau * 1e-12) : 0;
}

export interface MlpFit { fm: FloatMlp; shift: number; xmax: Float64Array; val: Metrics }

/** Train the float MLP on `features`, set its operating point, and score it on validation. */
export function fitMlp(opt: MlpFitOptions, features: number[], xtr: Float64Array, ytr: Uint8Array, wtr: Float64Array, xv: Float64Array, yv: Uint8Array): MlpFit {
  const K = features.length;
  const layers = [K, ...opt.hidden, 2];
  const n0 = ytr.length;
  const xmax = Float64Array.from(features, (f, j) => {
    const limit = FEATURES[f]!.xmax;
    if (opt.xmaxQuantile >= 1) return limit;
    const col = Float64Array.from({ length: n0 }, (_, r) => xtr[r * K + j]!).sort();
    return Math.min(limit, Math.max(1, Math.ceil(col[Math.floor(opt.xmaxQuantile * (n0 - 1))]!)));
  });
  const bar = opt.progress === false ? null : progressBar(`mlp K=${K}`, opt.epochs);
  const fm = trainMlp(xtr, ytr, wtr, xmax, {
    layers, epochs: opt.epochs, batch: opt.batch, lr: opt.lr, seed: opt.seed, l2: opt.l2, scaler: opt.scaler,
    log2: features.map((f) => opt.log2Features?.includes(f) ?? false),
    onEpoch: (e, loss, v) => bar?.tick(e, `loss ${loss.toFixed(4)} val MCC ${v.toFixed(4)}`),
  }, { x: xv, y: yv });
  bar?.end();
  const shift = calibrate(fm, xv, yv, opt.targetFpr);
  fm.layers[fm.layers.length - 1]!.bias[0]! += shift;
  const pred = new Uint8Array(yv.length), score = new Float64Array(yv.length);
  for (let i = 0; i < yv.length; i++) { const r = predictFloat(fm, xv, i * K); pred[i] = r.attack ? 1 : 0; score[i] = r.score; }
  return { fm, shift, xmax, val: computeMetrics(yv, pred, score) };
}

