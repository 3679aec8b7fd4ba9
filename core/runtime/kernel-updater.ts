// The ModelUpdater for the in-kernel classifier: a checked artifact (int32 MLP or decision tree)
// is written into the idle parameter slot, verified in the kernel against the TypeScript oracle on
// probe vectors, and only then made active (core/inference/model-slots.ts). Any failure leaves
// the active model untouched.
import type { Model } from "../../models/index.ts";
import { kernelModelOf, probesFor } from "../inference/artifact.ts";
import type { ModelSlots } from "../inference/model-slots.ts";
import type { ModelArtifact, ModelUpdater } from "./ports.ts";

export class KernelModelUpdater implements ModelUpdater {
  readonly wired = true;
  private active: { name: string; version: number } | null = null;
  private version: number;

  constructor(private readonly slots: ModelSlots) {
    // Versions keep increasing across core restarts on pinned maps.
    this.version = Math.max(slots.info(0).version, slots.info(1).version);
  }

  async push(artifact: ModelArtifact): Promise<{ version: number }> {
    const km = kernelModelOf(artifact.loaded as Model); // throws for kinds the kernel cannot run
    const version = this.version + 1;
    await this.slots.activate(km, version, probesFor(km));
    this.version = version;
    this.active = { name: artifact.name, version };
    return { version };
  }

  current(): { name: string; version: number } | null {
    return this.active;
  }
}
