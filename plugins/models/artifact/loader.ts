// The artifact loader the core's `artifacts` service uses: the models code's own checks (the one
// loader that training, evaluation and the kernel loader share).
import { basename, resolve } from "node:path";
import { loadArtifact } from "../../../models/index.ts";
import type { ArtifactLoader, ModelArtifact } from "../../../core/plugin-api/services.ts";

export const modelsArtifactLoader: ArtifactLoader = {
  async load(dir: string): Promise<ModelArtifact> {
    const model = loadArtifact(dir); // throws ArtifactError naming the folder and the reason
    return { dir: resolve(dir), name: `${model.kind}:${basename(resolve(dir))}`, kind: model.kind, features: model.features.length, loaded: model };
  },
};
