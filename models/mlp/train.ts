// MLP training: ReLU hidden layers, softmax cross-entropy with class weights, Adam. Seeded and
// single-threaded, so the same data and options give the same weights bit for bit.
import { rng, shuffle } from "../data/split.ts";
import { fitScaler, modelInput, predictFloat, type DenseLayer, type FloatMlp, type ScalerKind } from "./float.ts";

export interface MlpOptions {
  /** Layer sizes including input and output, e.g. [6, 32, 32, 2]. */
  layers: number[];
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** L2 penalty on weights (keeps weights bounded, which helps quantisation). */
  l2: number;
  scaler?: ScalerKind;
  /** Per input: take log2q8 of the clamped value (log2q8.ts). */
  log2?: boolean[];
  onEpoch?: (epoch: number, loss: number, valScore: number) => void;
}

export const DEFAULT_MLP: Omit<MlpOptions, "layers"> = { epochs: 80, batch: 512, lr: 1e-3, seed: 7, l2: 0 };

interface Adam { m: Float64Array; v: Float64Array }

/**
 * @param x row-major n x k training inputs; y labels; w sample weights
 * @param val optional validation set: the epoch with the best validation MCC is kept
 */
export function trainMlp(
  x: Float64Array, y: ArrayLike<number>, w: ArrayLike<number>, xmax: Float64Array, opt: MlpOptions,
  val?: { x: Float64Array; y: ArrayLike<number> },
): FloatMlp {
  const sizes = opt.layers;
  const k = sizes[0]!;
  if (sizes[sizes.length - 1] !== 2) throw new Error("MLP output layer must have 2 units (benign, attack)");
  const n = y.length;
  const log2 = opt.log2?.some(Boolean) ? opt.log2.slice() : undefined;
  if (log2 && log2.length !== k) throw new Error(`log2 flags: ${log2.length} for ${k} inputs`);
  const clamped = x.map((v, i) => modelInput(v, xmax[i % k]!, log2?.[i % k]));
  const { mean, std } = fitScaler(clamped, k, opt.scaler ?? "standard");
  const z = clamped.map((v, i) => (v - mean[i % k]!) / std[i % k]!);
  const rand = rng(opt.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fin = sizes[l]!, fout = sizes[l + 1]!;
    const wl = new Float64Array(fin * fout).map(() => gauss() * Math.sqrt(2 / fin)); // He init for ReLU
    layers.push({ in: fin, out: fout, w: wl, bias: new Float64Array(fout) });
  }
  const adamW: Adam[] = layers.map((L) => ({ m: new Float64Array(L.w.length), v: new Float64Array(L.w.length) }));
  const adamB: Adam[] = layers.map((L) => ({ m: new Float64Array(L.out), v: new Float64Array(L.out) }));
  const gW = layers.map((L) => new Float64Array(L.w.length));
  const gB = layers.map((L) => new Float64Array(L.out));
  const B = opt.batch;
  // Activations per layer for one batch (row-major batch x width).
  const acts = sizes.map((s) => new Float64Array(B * s));
  const deltas = sizes.map((s) => new Float64Array(B * s));
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let step = 0;
  const model: FloatMlp = { mean, std, xmax, layers, ...(log2 ? { log2 } : {}) };
  let best: { score: number; layers: DenseLayer[] } | null = null;
  const order = Array.from({ length: n }, (_, i) => i);

  for (let epoch = 0; epoch < opt.epochs; epoch++) {
    shuffle(order, rand);
    let lossSum = 0, wSum = 0;
    for (let start = 0; start < n; start += B) {
      const bs = Math.min(B, n - start);
      const a0 = acts[0]!;
      for (let r = 0; r < bs; r++) for (let c = 0; c < k; c++) a0[r * k + c] = z[order[start + r]! * k + c]!;
      // Forward.
      for (let l = 0; l < layers.length; l++) {
        const L = layers[l]!, ain = acts[l]!, aout = acts[l + 1]!, last = l === layers.length - 1;
        for (let r = 0; r < bs; r++) {
          for (let j = 0; j < L.out; j++) {
            let s = L.bias[j]!;
            const wo = j * L.in, ao = r * L.in;
            for (let q = 0; q < L.in; q++) s += L.w[wo + q]! * ain[ao + q]!;
            aout[r * L.out + j] = last || s > 0 ? s : 0;
          }
        }
      }
      // Softmax cross-entropy gradient, weighted; normalised by the batch's total weight.
      const out = acts[layers.length]!, dOut = deltas[layers.length]!;
      let bw = 0;
      for (let r = 0; r < bs; r++) bw += w[order[start + r]!]!;
      for (let r = 0; r < bs; r++) {
        const i = order[start + r]!;
        const l0 = out[r * 2]!, l1 = out[r * 2 + 1]!, m = Math.max(l0, l1);
        const e0 = Math.exp(l0 - m), e1 = Math.exp(l1 - m), s = e0 + e1;
        const p1 = e1 / s, yi = y[i]!, wi = w[i]!;
        lossSum += -wi * Math.log(Math.max(yi ? p1 : 1 - p1, 1e-12));
        wSum += wi;
        dOut[r * 2] = (wi / bw) * (1 - p1 - (yi ? 0 : 1));
        dOut[r * 2 + 1] = (wi / bw) * (p1 - yi);
      }
      // Backward.
      for (let l = layers.length - 1; l >= 0; l--) {
        const L = layers[l]!, ain = acts[l]!, dout = deltas[l + 1]!, din = deltas[l]!;
        const gw = gW[l]!, gb = gB[l]!;
        gw.fill(0); gb.fill(0);
        if (l > 0) din.fill(0, 0, bs * L.in);
        for (let r = 0; r < bs; r++) {
          for (let j = 0; j < L.out; j++) {
            const d = dout[r * L.out + j]!;
            if (d === 0) continue;
            gb[j]! += d;
            const wo = j * L.in, ao = r * L.in;
            for (let q = 0; q < L.in; q++) {
              gw[wo + q]! += d * ain[ao + q]!;
              if (l > 0) din[ao + q]! += d * L.w[wo + q]!;
            }
          }
        }
        // ReLU derivative of the layer below (its stored activation is post-ReLU).
        if (l > 0) for (let q = 0; q < bs * L.in; q++) if (ain[q]! <= 0) din[q] = 0;
      }
      step++;
      const c1 = 1 - b1 ** step, c2 = 1 - b2 ** step;
      const update = (p: Float64Array, g: Float64Array, s: Adam, decay: number) => {
        for (let q = 0; q < p.length; q++) {
          const gq = g[q]! + decay * p[q]!;
          s.m[q] = b1 * s.m[q]! + (1 - b1) * gq;
          s.v[q] = b2 * s.v[q]! + (1 - b2) * gq * gq;
          p[q]! -= (opt.lr * (s.m[q]! / c1)) / (Math.sqrt(s.v[q]! / c2) + eps);
        }
      };
      layers.forEach((L, l) => { update(L.w, gW[l]!, adamW[l]!, opt.l2); update(L.bias, gB[l]!, adamB[l]!, 0); });
    }
    let valScore = NaN;
    if (val) {
      valScore = mccOf(model, val.x, val.y, k);
      if (!best || valScore > best.score) best = { score: valScore, layers: layers.map((L) => ({ ...L, w: L.w.slice(), bias: L.bias.slice() })) };
    }
    opt.onEpoch?.(epoch + 1, lossSum / wSum, valScore);
  }
  return best ? { ...model, layers: best.layers } : model;
}

function mccOf(m: FloatMlp, x: Float64Array, y: ArrayLike<number>, k: number): number {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < y.length; i++) {
    const p = predictFloat(m, x, i * k).attack;
    if (p) { if (y[i]) tp++; else fp++; } else if (y[i]) fn++; else tn++;
  }
  const d = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return d === 0 ? 0 : (tp * tn - fp * fn) / d;
}
