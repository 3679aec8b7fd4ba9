// What both serving paths of the artifact plugin (predictUserSpace in index.ts, an xgb backend in
// xgb-serving.ts) need of a flow record and give back: the features a model reads, checked with the
// record's id, and the classification it answers.
import { Classification, Verdict, type FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { N_FEATURES, N_FLOW_FEATURES } from "../../../models/index.ts";

/** Records must carry features 0..need-1: the flow's own, and any context feature the model reads. */
export function featuresNeeded(reads: readonly number[]): number {
  return Math.max(N_FLOW_FEATURES, ...reads.map((f) => f + 1));
}

/** A record may carry only the flow's own features (an extractor without source context); it is
 *  refused if the model reads a feature it lacks. */
export function checkFeatures(r: FlowRecord, need: number): void {
  if (r.features.length < need || r.features.length > N_FEATURES) {
    throw new Error(`record ${r.id} has ${r.features.length} features; this model reads features up to ${need - 1} (of ${N_FEATURES})`);
  }
}

export function classification(flowId: number, attack: boolean, score: number, model: string): Classification {
  return Classification.create({
    flowId,
    verdict: attack ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN,
    score,
    label: attack ? "ATTACK" : "BENIGN",
    model,
  });
}
