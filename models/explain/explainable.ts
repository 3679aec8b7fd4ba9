// The model and baseline an explanation needs, loaded once per artifact folder and model version
// (a push changes the version): shared by the alert line and the live page. A folder that cannot be
// explained (not an int32 MLP, no baseline.json, unreadable) is remembered with its reason.
import { loadArtifact, type MlpModel } from "../artifact/load.ts";
import { artifactBaseline, type Baseline } from "./baseline.ts";

export type Explainable = { model: MlpModel; baseline: Baseline } | { error: string };

export class ExplainableArtifacts {
  private readonly loaded = new Map<string, Explainable>();

  get(dir: string, version: number): Explainable {
    const key = `${dir}#${version}`;
    let a = this.loaded.get(key);
    if (!a) {
      try {
        const model = loadArtifact(dir);
        a = model.kind === "mlp-int32" ? { model: model as MlpModel, baseline: artifactBaseline(dir) } : { error: `${dir} is a ${model.kind} model; contributions are computed for int32 MLPs (mlp-int32) only` };
      } catch (err) {
        a = { error: (err as Error).message };
      }
      this.loaded.set(key, a);
    }
    return a;
  }
}
