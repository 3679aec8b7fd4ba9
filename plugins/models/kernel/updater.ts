// Where a checked artifact goes when the kernel model is updated. With an attached data plane:
// written into the idle parameter slot, verified in the kernel against the TypeScript oracle on
// probe vectors, and only then made active (model-slots.ts); any failure leaves the active model
// untouched. Without one (no interface configured) the artifact is checked and recorded only, and
// the plugin says so (Describe: hot_update "recorded-only").
import type { Model } from "../../../models/index.ts";
import type { ModelArtifact } from "../../../core/plugin-api/services.ts";
import { kernelModelOf, probesFor } from "./probes.ts";
import type { ModelSlots } from "./model-slots.ts";

export interface ModelUpdater {
  push(artifact: ModelArtifact): Promise<{ version: number }>;
  current(): { name: string; version: number } | null;
  /** False while no kernel is attached: artifacts are checked and recorded only. */
  readonly wired: boolean;
}

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

export class RecordingModelUpdater implements ModelUpdater {
  readonly wired = false;
  private active: { name: string; version: number } | null = null;
  private version = 0;

  async push(artifact: ModelArtifact): Promise<{ version: number }> {
    this.version++;
    this.active = { name: artifact.name, version: this.version };
    return { version: this.version };
  }

  current(): { name: string; version: number } | null {
    return this.active;
  }
}
