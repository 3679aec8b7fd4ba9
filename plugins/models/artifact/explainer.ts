// The live page's "why was this blocked?": the core's Explain answer joined with the model's own
// explanation of each attack verdict's score, the same report `xids explain --json` prints
// (models/explain/report.ts). The model and its baseline are loaded once per artifact folder and
// version; a model that cannot be explained (not an int32 MLP, no baseline.json) answers the
// evidence with the reason instead.
import { resolve } from "node:path";
import { ExplainResponse } from "../../../proto/gen/xids/control/v1/control.ts";
import { loadArtifact, type MlpModel } from "../../../models/artifact/load.ts";
import { artifactBaseline, type Baseline } from "../../../models/explain/baseline.ts";
import { explainReport } from "../../../models/explain/report.ts";

/** The CLI's defaults, so the page and `xids explain` give the same numbers. */
const PAGE_OPTIONS = { permutations: 64, top: 5, all: false };

const loaded = new Map<string, { model: MlpModel; baseline: Baseline } | { error: string }>();

function load(dir: string, version: number): { model: MlpModel; baseline: Baseline } | { error: string } {
  const key = `${resolve(dir)}@${version}`;
  let m = loaded.get(key);
  if (!m) {
    try {
      const model = loadArtifact(dir);
      m = model.kind === "mlp-int32" ? { model: model as MlpModel, baseline: artifactBaseline(dir) } : { error: `${dir} is a ${model.kind} model; contributions are computed for mlp-int32 only` };
    } catch (err) {
      m = { error: (err as Error).message };
    }
    loaded.set(key, m);
  }
  return m;
}

export async function explainForPage(res: ExplainResponse): Promise<unknown> {
  const dir = res.modelArtifact;
  const m = dir ? load(dir, res.modelVersion) : { error: `the core's model "${res.modelTarget}" names no artifact` };
  if ("error" in m) return { unexplained: m.error, evidence: ExplainResponse.toJSON(res) };
  return explainReport(res, m.model, m.baseline, resolve(dir), PAGE_OPTIONS);
}
