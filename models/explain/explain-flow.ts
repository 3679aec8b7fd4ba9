// One flow's int32 MLP score explained feature by feature: the score is the model's own output
// (sat32(attack logit - benign logit) of the bit-exact reference, the number the kernel compares
// with 0 for its verdict), attributed to the model's inputs by shapley.ts against a benign baseline.
import type { MlpModel } from "../artifact/load.ts";
import { FEATURES } from "../data/features.ts";
import { inferInt32 } from "../mlp/int32.ts";
import type { Baseline } from "./baseline.ts";
import { METHOD, shapley } from "./shapley.ts";

export interface FeatureContribution {
  /** Kernel feature index (bpf/FEATURES.md). */
  index: number;
  name: string;
  value: number;
  baseline: number;
  /** Estimated Shapley value, in score units (1/2^b of a logit). */
  contribution: number;
}

export interface FlowExplanation {
  method: string;
  /** The reference int32 score of the flow and of the baseline row. */
  score: number;
  baselineScore: number;
  permutations: number;
  /** Every model input, largest |contribution| first. */
  features: FeatureContribution[];
  /** Integer check: the contributions' totals sum to permutations x (score - baselineScore). */
  exact: boolean;
}

/** A row shorter than the model's highest input index is refused, naming what it was. */
function requireFeatures(model: MlpModel, what: string, row: readonly number[]): void {
  const highest = Math.max(...model.features);
  if (row.length <= highest) throw new RangeError(`the ${what} has ${row.length} features, the model reads feature ${highest}`);
}

/** The reference score of a full kernel feature row (bpf/FEATURES.md order) under `model`. */
export function referenceScore(model: MlpModel, row: readonly number[]): number {
  requireFeatures(model, "row", row);
  return inferInt32(model.params, model.features.map((i) => row[i]!)).score;
}

export function methodLine(model: MlpModel, b: Baseline, permutations: number): string {
  return `${METHOD}: Shapley values of the int32 reference score (attack minus benign logit, in 1/${2 ** model.params.b} logit units), ${permutations} seeded permutations (antithetic pairs), against the baseline "${b.method}" of ${b.rows} rows of ${b.data}; they sum to score minus baseline score`;
}

export function explainFlow(model: MlpModel, baseline: Baseline, row: readonly number[], permutations = 32, seed = 1): FlowExplanation {
  requireFeatures(model, "flow", row);
  requireFeatures(model, "baseline", baseline.values);
  const x = model.features.map((i) => row[i]!);
  const b = model.features.map((i) => baseline.values[i]!);
  const a = shapley((v) => inferInt32(model.params, v).score, x, b, permutations, seed);
  const features = model.features.map((index, k) => ({ index, name: FEATURES[index]!.name, value: x[k]!, baseline: b[k]!, contribution: a.contributions[k]! }));
  features.sort((p, q) => Math.abs(q.contribution) - Math.abs(p.contribution));
  const sum = a.totals.reduce((s, t) => s + t, 0);
  return { method: METHOD, score: a.score, baselineScore: a.baselineScore, permutations: a.permutations, features, exact: sum === a.permutations * (a.score - a.baselineScore) };
}
