// Feature selection from data: Gini importance of a CART over every feature the data set has
// (the 22 of the flow, and its source's context when recorded), then the cumulative top-K curve
// (a tree on the K most important, K = 1..N, judged on validation), so the kernel computes the
// fewest features that still meet the targets.
import { N_FEATURES, FEATURES } from "../data/features.ts";
import { floorRows, selectRows } from "../data/csv.ts";
import { computeMetrics, type Metrics } from "../metrics.ts";
import { DEFAULT_CART, inferTree, trainCart, type CartOptions } from "./cart.ts";

export interface Importance {
  /** Feature indices (of the data set's features) by decreasing importance. */
  order: number[];
  /** importance[i] for feature index i. */
  importance: number[];
}

export interface CurvePoint {
  k: number;
  features: number[];
  val: Pick<Metrics, "f1" | "fpr" | "mcc" | "accuracy">;
}

export interface SplitData {
  /** All rows, row-major n x N_FEATURES. */
  x: Float64Array;
  /** The feature indices the data has (Dataset.features). */
  features: number[];
  y: Uint8Array;
  train: ArrayLike<number>;
  val: ArrayLike<number>;
  weights: [number, number];
}

function labelsOf(y: Uint8Array, idx: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: idx.length }, (_, i) => y[idx[i]!]!);
}

export function giniImportance(d: SplitData, opt: CartOptions = DEFAULT_CART): Importance {
  const cols = d.features;
  const ytr = labelsOf(d.y, d.train);
  const w = Float64Array.from(ytr, (c) => d.weights[c]!);
  const t = trainCart(selectRows(d.x, N_FEATURES, d.train, cols), cols.length, ytr, w, opt);
  const importance = new Array<number>(N_FEATURES).fill(0);
  cols.forEach((f, j) => (importance[f] = t.importance[j]!));
  // Stable tie-break by index keeps the order deterministic when importances are equal (often 0).
  const order = cols.slice().sort((a, b) => importance[b]! - importance[a]! || a - b);
  return { order, importance };
}

/** Validation metrics of a tree trained on features `cols`, evaluated on floored inputs. */
export function treeOnFeatures(d: SplitData, cols: number[], opt: CartOptions = DEFAULT_CART) {
  const k = cols.length;
  const ytr = labelsOf(d.y, d.train);
  const w = Float64Array.from(ytr, (c) => d.weights[c]!);
  const t = trainCart(selectRows(d.x, N_FEATURES, d.train, cols), k, ytr, w, opt);
  const xv = floorRows(selectRows(d.x, N_FEATURES, d.val, cols));
  const yv = labelsOf(d.y, d.val);
  const pred = new Uint8Array(yv.length), score = new Float64Array(yv.length);
  for (let i = 0; i < yv.length; i++) {
    const r = inferTree(t.tree, xv, i * k);
    pred[i] = r.attack ? 1 : 0;
    score[i] = r.value;
  }
  return { trained: t, metrics: computeMetrics(yv, pred, score) };
}

export function topKCurve(d: SplitData, imp: Importance, maxK = imp.order.length, opt: CartOptions = DEFAULT_CART): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (let k = 1; k <= Math.min(maxK, imp.order.length); k++) {
    const features = imp.order.slice(0, k);
    const m = treeOnFeatures(d, features, opt).metrics;
    out.push({ k, features, val: { f1: m.f1, fpr: m.fpr, mcc: m.mcc, accuracy: m.accuracy } });
  }
  return out;
}

export function formatCurve(imp: Importance, curve: CurvePoint[]): string {
  const lines = ["| K | added feature (idx) | importance | val F1 | val FPR | val MCC |", "|--:|---|--:|--:|--:|--:|"];
  for (const p of curve) {
    const f = p.features[p.k - 1]!;
    lines.push(`| ${p.k} | ${FEATURES[f]!.name} (${f}) | ${imp.importance[f]!.toFixed(4)} | ${p.val.f1.toFixed(4)} | ${(p.val.fpr * 100).toFixed(2)}% | ${p.val.mcc.toFixed(4)} |`);
  }
  return lines.join("\n");
}
