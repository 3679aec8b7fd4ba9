// What a replay needs from an agent's configuration to judge a capture as that agent would: the
// data-plane flow rules, the allow list, the in-kernel model and the block policy.
import { resolve } from "node:path";
import { checkConfig, ConfigError, loadConfigFile, type BuiltinCatalog } from "../../../core/config/load.ts";
import type { XidsConfig } from "../../../core/config/config.ts";
import type { KernelReplayOptions, ReplayOptions } from "./replay.ts";

const MS = 1_000_000n;

export interface LiveReplay {
  flow: Pick<ReplayOptions, "idleTimeoutNs" | "activeTimeoutNs" | "earlyEndPkts" | "sweepIntervalNs">;
  allow: string[];
  /** The in-kernel model's artifact folder, null when the configuration runs none. */
  modelDir: string | null;
  blocking: KernelReplayOptions["blocking"];
}

/** The data plane's flow rules of a configuration, as replay takes them. */
export function flowReplayOptions(d: XidsConfig["dataplane"]): LiveReplay["flow"] {
  return {
    idleTimeoutNs: BigInt(d.idle_timeout_ms) * MS,
    activeTimeoutNs: BigInt(d.active_timeout_ms) * MS,
    earlyEndPkts: d.early_end_packets,
    sweepIntervalNs: BigInt(d.sweep_interval_ms) * MS,
  };
}

/** `source` is a config file, or "default" for the configuration an empty file gives. */
export function liveReplayOptions(source: string, catalog: BuiltinCatalog): LiveReplay {
  let config: XidsConfig;
  if (source === "default") {
    const r = checkConfig({}, catalog);
    if (!r.ok) throw new ConfigError(r.issues);
    config = r.config;
  } else config = loadConfigFile(source, catalog);
  const b = config.pipeline.block;
  const kernel = config.pipeline.models.map((id) => config.plugins.find((p) => p.id === id)).find((p) => p?.enabled && p.builtin === "kernel");
  const artifact = (kernel?.config as { artifact?: string } | undefined)?.artifact ?? "";
  return {
    flow: flowReplayOptions(config.dataplane),
    allow: config.allow,
    modelDir: artifact ? resolve(artifact) : null,
    blocking: b.enabled
      ? {
          blockTtlNs: BigInt(b.ttl_seconds) * 1_000_000_000n,
          blockReason: b.reason,
          blockPolicy: { minAttacks: b.min_attacks, minAttackPct: b.min_attack_pct, windowNs: BigInt(b.window_seconds) * 1_000_000_000n },
        }
      : undefined,
  };
}
