// Evaluation of an artifact on labelled rows: predictions from a backend (user space now, the
// kernel later through the same Predictor signature) and the shared metrics.
import { selectRows, type Dataset } from "../data/csv.ts";
import { FEATURES, N_FEATURES } from "../data/features.ts";
import type { Model } from "../artifact/load.ts";
import { computeMetrics, publicMetrics } from "../metrics.ts";
import { stratifiedSplit } from "../data/split.ts";
import { predictUserSpace, type Predictor } from "./predict.ts";

export type EvalResult = ReturnType<typeof publicMetrics> & { float_vs_int32_disagreements?: number };

/** The rows of `data` in `idx` (all rows if omitted) as n x N_FEATURES kernel vectors with labels. */
export function rowsOf(data: Dataset, idx?: ArrayLike<number>): { x: Float64Array; y: Uint8Array; n: number } {
  const rows = idx ?? Int32Array.from({ length: data.n }, (_, i) => i);
  const all = Array.from({ length: N_FEATURES }, (_, i) => i);
  return { x: selectRows(data.x, N_FEATURES, rows, all), y: Uint8Array.from({ length: rows.length }, (_, i) => data.y[rows[i]!]!), n: rows.length };
}

/** The test split an artifact was judged on, rebuilt from its manifest's split seed. */
export function testRows(model: Model, data: Dataset): ArrayLike<number> {
  const s = model.manifest.training.split;
  return stratifiedSplit(data.label, { seed: s.seed, train: s.train, val: s.val }).test;
}

/** A model can be judged on a data set only if the data set has every feature it reads. */
export function checkFeaturesPresent(model: Model, data: Dataset, where: string): void {
  const absent = model.features.filter((f) => !data.features.includes(f));
  if (absent.length) {
    throw new Error(`${model.dir} reads ${absent.map((f) => `${FEATURES[f]!.name} [${f}]`).join(", ")}, which ${where} does not have (a data set without the source context, such as CIC-IDS-2017, can judge only flow-feature models)`);
  }
}

export async function evaluate(model: Model, x: Float64Array, y: Uint8Array, predictor: Predictor = predictUserSpace): Promise<EvalResult> {
  const p = await predictor(model, x, y.length);
  const m = computeMetrics(y, p.pred, p.score);
  const out: EvalResult = publicMetrics(m);
  if (p.floatPred) {
    let d = 0;
    for (let i = 0; i < y.length; i++) if (p.floatPred[i] !== p.pred[i]) d++;
    out.float_vs_int32_disagreements = d;
  }
  return out;
}
