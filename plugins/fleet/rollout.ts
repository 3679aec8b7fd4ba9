// Model rollout on this agent: the rollout bucket's active-model key names a bundle in the models
// store and its SHA-256 (and a canary share). The agent, if it is in the share, downloads the
// bundle, checks its digest, unpacks it into its state dir and hot-swaps it through the core's
// checked path (PushModel's: the artifact checks, then the model plugin's own, e.g. the kernel
// probe check). A model it refuses is reported with the reason in its status and never retried
// (the next model named is); the old model keeps running.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { KvWatchEntry } from "@nats-io/kv";
import type { ModelInUse } from "../../core/plugin-api/services.ts";
import type { Logger } from "../../core/plugin-api/types.ts";
import { sha256Hex, unpackArtifact } from "./bundle.ts";
import type { Session } from "./link.ts";
import { ACTIVE_MODEL_KEY } from "./names.ts";
import { parseActiveModel, type ActiveModel } from "./records.ts";

const RETRY_MS = 2_000;

/** True when `agent` is in the first `pct` % of agents (a stable share: the same agents are the canaries of every rollout). */
export function inCanary(agent: string, pct: number): boolean {
  if (pct >= 100) return true;
  const h = sha256Hex(new TextEncoder().encode(agent));
  return (parseInt(h.slice(0, 8), 16) / 0x1_0000_0000) * 100 < pct;
}

export class ModelRollout {
  readonly stats = { taken: 0, rejected: 0 };
  /** The fleet model this agent runs ("" = none taken yet). */
  sha256 = "";
  rejected = { sha256: "", reason: "" };
  private wanted: ActiveModel | null = null;
  private busy = false;

  private readonly modelsDir: string;

  constructor(
    private readonly agent: string,
    stateDir: string,
    private readonly model: ModelInUse,
    private readonly log: Logger,
    /** A model was taken or refused: the status should say so now. */
    private readonly changed: () => void,
  ) {
    this.modelsDir = join(stateDir, "fleet-models");
  }

  async start(session: Session): Promise<void> {
    const watch = await session.stores.rollout.watch({ key: ACTIVE_MODEL_KEY });
    session.onEnd(() => watch.stop());
    void (async () => {
      try {
        for await (const e of watch) this.onEntry(session, e);
      } catch (err) {
        this.log.warn(`rollout watch failed: ${(err as Error).message}`);
      }
      session.restart("the rollout watch stopped");
    })();
  }

  private onEntry(session: Session, e: KvWatchEntry): void {
    if (e.operation !== "PUT") return;
    try {
      this.wanted = parseActiveModel(e.value);
    } catch (err) {
      return this.log.warn(`rollout: the active-model key is not valid: ${(err as Error).message}`);
    }
    void this.follow(session);
  }

  /** Takes the wanted model, one at a time (a newer one named meanwhile is taken next). */
  private async follow(session: Session): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.wanted && session.live) {
        const m = this.wanted;
        this.wanted = null;
        if (m.sha256 === this.sha256 || m.sha256 === this.rejected.sha256) continue;
        if (!inCanary(this.agent, m.canary_pct)) {
          this.log.info(`model ${m.object}: not in the canary share (${m.canary_pct} %), keeping the model in use`);
          continue;
        }
        await this.take(session, m);
      }
    } finally {
      this.busy = false;
    }
  }

  private async take(session: Session, m: ActiveModel): Promise<void> {
    let bytes: Uint8Array | null;
    try {
      bytes = await session.stores.models.getBlob(m.object);
    } catch (err) {
      // Not the model's fault (the connection, the store): tried again on the next session.
      return this.log.warn(`model ${m.object}: download failed: ${(err as Error).message}`);
    }
    const reason = bytes === null ? `object ${m.object} is not in the models store` : sha256Hex(bytes) !== m.sha256 ? `checksum mismatch: the key names sha256 ${m.sha256}, the object has ${sha256Hex(bytes)}` : null;
    if (reason) return this.reject(m, reason);
    const dir = join(this.modelsDir, m.sha256);
    try {
      unpackArtifact(bytes!, dir);
      const res = await this.model.push(dir);
      this.sha256 = m.sha256;
      this.prune();
      this.stats.taken++;
      this.log.info(`model ${m.object} (sha256 ${m.sha256.slice(0, 12)}) taken: ${res.target} now runs ${res.model} (version ${res.version})`);
      this.changed();
    } catch (err) {
      if ((err as { code?: number }).code !== grpcStatus.UNAVAILABLE) return this.reject(m, (err as Error).message);
      // The model plugin is down for now (restarting): not the model's fault, so try again.
      this.log.warn(`model ${m.object}: ${(err as Error).message}; trying again in ${RETRY_MS} ms`);
      setTimeout(() => {
        this.wanted ??= m;
        void this.follow(session);
      }, RETRY_MS);
    }
  }

  /** Only the folder of the model in use stays (a restarted agent takes the active one again). */
  private prune(): void {
    for (const name of existsSync(this.modelsDir) ? readdirSync(this.modelsDir) : []) {
      if (name !== this.sha256) rmSync(join(this.modelsDir, name), { recursive: true, force: true });
    }
  }

  private reject(m: ActiveModel, reason: string): void {
    this.rejected = { sha256: m.sha256, reason };
    this.prune();
    this.stats.rejected++;
    this.log.error(`model ${m.object} (sha256 ${m.sha256.slice(0, 12)}) refused, the model in use stays: ${reason}`);
    this.changed();
  }
}
