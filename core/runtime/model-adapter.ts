// Binds the core's model ports to the models code: artifacts are checked by models/ (the one
// loader that training and the kernel loader share). With a kernel data plane, pushes go to the
// in-kernel classifier (kernel-updater.ts); without one (no interface configured) the
// RecordingModelUpdater checks and keeps the artifact and bumps the version, and says so
// (`wired: false`, reported by the kernel plugin's Describe).
import { basename, resolve } from "node:path";
import { loadArtifact } from "../../models/index.ts";
import type { ArtifactLoader, ModelArtifact, ModelUpdater } from "./ports.ts";

export const modelsArtifactLoader: ArtifactLoader = {
  async load(dir: string): Promise<ModelArtifact> {
    const model = loadArtifact(dir); // throws ArtifactError naming the folder and the reason
    return { dir: resolve(dir), name: `${model.kind}:${basename(resolve(dir))}`, kind: model.kind, version: 0, loaded: model };
  },
};

export class RecordingModelUpdater implements ModelUpdater {
  readonly wired = false;
  private active: { name: string; version: number; artifact: ModelArtifact } | null = null;
  private version = 0;

  async push(artifact: ModelArtifact): Promise<{ version: number }> {
    this.version++;
    this.active = { name: artifact.name, version: this.version, artifact };
    return { version: this.version };
  }

  current(): { name: string; version: number } | null {
    return this.active ? { name: this.active.name, version: this.active.version } : null;
  }
}
