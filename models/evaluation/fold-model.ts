// One model trained for one leave-one-out fold, of a kind the kernel runs (int32 MLP or decision
// tree), judged as the kernel would judge: on floored inputs, the MLP through the int32 reference
// the BPF program matches bit for bit.
import { floorRows, selectRows } from "../data/csv.ts";
import { N_FEATURES } from "../data/features.ts";
import { inferInt32, type Int32Params } from "../mlp/int32.ts";
import { allParams, chooseBits, overflowAnalysis, quantize, type BitsChoice, type OverflowReport } from "../mlp/quantize.ts";
import { DEFAULT_CART, inferTree, trainCart, type TrainedTree } from "../tree/cart.ts";
import { fitMlp, type MlpFit, type MlpFitOptions } from "../pipeline/fit-mlp.ts";

export type FoldModelKind = "mlp" | "dt";

export interface FoldModelOptions {
  kind: FoldModelKind;
  /** Kernel feature indices the model reads. */
  features: number[];
  mlp: MlpFitOptions;
  /** ECDF rule of the quantiser. */
  alpha: number;
  maxDepth: number;
}

export interface FittedModel {
  /** Verdicts (1 = attack) for rows `idx` of the n x N_FEATURES matrix `x`. */
  predict(x: Float64Array, idx: ArrayLike<number>): Uint8Array;
  /** One line: what was fitted (for the log). */
  summary: string;
  /** What an artifact is written from: the MLP (float fit, quantised twin) or the tree. */
  parts: { kind: "mlp"; fit: MlpFit; q: Int32Params; bits: BitsChoice; overflow: OverflowReport } | { kind: "dt"; tree: TrainedTree };
}

export function fitFoldModel(
  x: Float64Array, y: Uint8Array, train: ArrayLike<number>, val: ArrayLike<number>, weights: Float64Array, opt: FoldModelOptions,
): FittedModel {
  const K = opt.features.length;
  const xtr = selectRows(x, N_FEATURES, train, opt.features);
  const ytr = Uint8Array.from({ length: train.length }, (_, i) => y[train[i]!]!);
  const rows = (idx: ArrayLike<number>) => floorRows(selectRows(x, N_FEATURES, idx, opt.features));
  if (opt.kind === "dt") {
    const t = trainCart(xtr, K, ytr, weights, { ...DEFAULT_CART, maxDepth: opt.maxDepth });
    return {
      summary: `dt: ${t.tree.feature.length} nodes`,
      parts: { kind: "dt", tree: t },
      predict(xAll, idx) {
        const m = floorRows(selectRows(xAll, N_FEATURES, idx, opt.features));
        return Uint8Array.from({ length: idx.length }, (_, i) => (inferTree(t.tree, m, i * K).attack ? 1 : 0));
      },
    };
  }
  const yv = Uint8Array.from({ length: val.length }, (_, i) => y[val[i]!]!);
  const fit = fitMlp({ ...opt.mlp, progress: false }, opt.features, xtr, ytr, weights, rows(val), yv);
  const bits = chooseBits(allParams(fit.fm), opt.alpha);
  const q: Int32Params = quantize(fit.fm, opt.features, bits.b);
  const ov = overflowAnalysis(q);
  if (!ov.ok) throw new Error(`fold model: overflow analysis failed: ${ov.problems.join("; ")}`);
  return {
    summary: `int32 mlp: b = ${bits.b}, validation F1 ${fit.val.f1.toFixed(4)} FPR ${(fit.val.fpr * 100).toFixed(2)}%`,
    parts: { kind: "mlp", fit, q, bits, overflow: ov },
    predict(xAll, idx) {
      const out = new Uint8Array(idx.length);
      const row = new Array<number>(K);
      for (let i = 0; i < idx.length; i++) {
        const base = idx[i]! * N_FEATURES;
        for (let c = 0; c < K; c++) row[c] = Math.floor(xAll[base + opt.features[c]!]!);
        out[i] = inferInt32(q, row).attack ? 1 : 0;
      }
      return out;
    },
  };
}
