// Where a checked artifact goes when the kernel model is updated. With an attached data plane:
// written into the idle parameter slot, verified in the kernel against the TypeScript oracle on
// probe vectors, and only then made active (model-slots.ts); any failure leaves the active model
// untouched. Without one (no interface configured) the artifact is checked and recorded only, and
// the plugin says so (Describe: hot_update "recorded-only"). Either way a version is reserved in
// the state file (version-state.ts) before it is used, so versions keep increasing across restarts.
import type { Model } from "../../../models/index.ts";
import type { ModelArtifact } from "../../../core/plugin-api/services.ts";
import { kernelModelOf, probesFor } from "./probes.ts";
import type { ModelSlots } from "./model-slots.ts";
import type { ModelVersionState } from "./version-state.ts";

export interface ModelUpdater {
  push(artifact: ModelArtifact): Promise<{ version: number }>;
  current(): { name: string; dir: string; version: number } | null;
  /** False while no kernel is attached: artifacts are checked and recorded only. */
  readonly wired: boolean;
}

export class KernelModelUpdater implements ModelUpdater {
  readonly wired = true;
  private active: { name: string; dir: string; version: number } | null = null;
  private version: number;

  constructor(
    private readonly slots: ModelSlots,
    private readonly versions: ModelVersionState,
  ) {
    // A floor besides the state file: what the slots hold (0 in a fresh XDP object; the
    // classifier's maps are not pinned, so earlier runs' versions are known from the file only).
    this.version = Math.max(slots.info(0).version, slots.info(1).version);
  }

  async push(artifact: ModelArtifact): Promise<{ version: number }> {
    const km = kernelModelOf(artifact.loaded as Model); // throws for kinds the kernel cannot run
    // Written down before the kernel sees it: a crash after the swap cannot hand it out again.
    // A push that then fails leaves a gap, never a repeat.
    const version = await this.versions.reserve(artifact.name, this.version);
    this.version = version;
    await this.slots.activate(km, version, probesFor(km));
    this.active = { name: artifact.name, dir: artifact.dir, version };
    return { version };
  }

  current(): { name: string; dir: string; version: number } | null {
    return this.active;
  }
}

export class RecordingModelUpdater implements ModelUpdater {
  readonly wired = false;
  private active: { name: string; dir: string; version: number } | null = null;
  private version = 0;

  constructor(private readonly versions: ModelVersionState) {}

  async push(artifact: ModelArtifact): Promise<{ version: number }> {
    this.version = await this.versions.reserve(artifact.name, this.version);
    this.active = { name: artifact.name, dir: artifact.dir, version: this.version };
    return { version: this.version };
  }

  current(): { name: string; dir: string; version: number } | null {
    return this.active;
  }
}
