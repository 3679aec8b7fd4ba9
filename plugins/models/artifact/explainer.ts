// The live page's "why was this blocked?": the core's Explain answer joined with the model's own
// explanation of each attack verdict's score, the same report `xids explain --json` prints
// (models/explain/report.ts), with the model and baseline from models/explain/explainable.ts; a
// model that cannot be explained (not an int32 MLP, no baseline.json) answers the evidence with the
// reason instead.
import { resolve } from "node:path";
import { ExplainResponse } from "../../../proto/gen/xids/control/v1/control.ts";
import { ExplainableArtifacts } from "../../../models/explain/explainable.ts";
import { explainReport } from "../../../models/explain/report.ts";

/** The CLI's defaults, so the page and `xids explain` give the same numbers. */
const PAGE_OPTIONS = { permutations: 64, top: 5, all: false };

const artifacts = new ExplainableArtifacts();

export async function explainForPage(res: ExplainResponse): Promise<unknown> {
  const dir = res.modelArtifact;
  const m = dir ? artifacts.get(dir, res.modelVersion) : { error: `the core's model "${res.modelTarget}" names no artifact` };
  if ("error" in m) return { unexplained: m.error, evidence: ExplainResponse.toJSON(res) };
  return explainReport(res, m.model, m.baseline, resolve(dir), PAGE_OPTIONS);
}
