// Reload (SIGHUP, `xids reload`): a re-read config that passed its whole check is applied with XDP
// attached throughout: allow list and pipeline.block into the kernel, changed responders started
// anew (the old one serves until the new one runs), a changed model artifact through PushModel's
// checked path, files reopened (log rotation). The rest is named as needing a restart, never
// ignored. Whatever fails before the commit changes nothing.
import { isDeepStrictEqual } from "node:util";
import { ReloadResponse } from "../../proto/gen/xids/control/v1/control.ts";
import type { PluginEntry, XidsConfig } from "../config/config.ts";
import type { ControlBackend } from "../control/server.ts";
import { blocking } from "../ebpf/kernel-dataplane.ts";
import type { DataPlanePort } from "../ebpf/port.ts";
import type { PluginHost } from "../host/host.ts";
import type { ScopedLogger } from "../util/log.ts";
import { parseCidr, type Cidr } from "../util/net.ts";

export interface ReloadPlan {
  allowAdd: string[];
  allowRemove: string[];
  /** Changed pipeline.block paths. */
  block: string[];
  /** In-process responders whose entry changed; model plugins whose only change is config.artifact. */
  responders: PluginEntry[];
  models: { id: string; artifact: string }[];
  needsRestart: string[];
}

/** The dotted paths at which `a` and `b` differ (objects compared key by key, anything else whole). */
export function changedPaths(a: unknown, b: unknown, path: string): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return [path];
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => changedPaths(a[k], b[k], `${path}.${k}`));
}

const canonical = (cidrs: string[]) => cidrs.map((c) => (parseCidr(c) as Cidr).cidr);

export function planReload(cur: XidsConfig, next: XidsConfig): ReloadPlan {
  const [was, now] = [canonical(cur.allow), canonical(next.allow)];
  const plan: ReloadPlan = { allowAdd: now.filter((c) => !was.includes(c)), allowRemove: was.filter((c) => !now.includes(c)), block: [], responders: [], models: [], needsRestart: [] };
  // `fleet:` is the fleet plugin's entry, compared with the plugins.
  for (const key of Object.keys({ ...cur, ...next }) as (keyof XidsConfig)[]) {
    if (key === "allow" || key === "plugins" || key === "fleet") continue;
    for (const path of changedPaths(cur[key], next[key], key)) (path.startsWith("pipeline.block.") ? plan.block : plan.needsRestart).push(path);
  }
  const before = new Map(cur.plugins.map((p) => [p.id, p]));
  const after = new Map(next.plugins.map((p) => [p.id, p]));
  for (const id of before.keys()) if (!after.has(id)) plan.needsRestart.push(`plugins.${id} (removed)`);
  for (const [id, n] of after) {
    const o = before.get(id);
    if (!o) plan.needsRestart.push(`plugins.${id} (added)`);
    else if (isDeepStrictEqual(o, n)) continue;
    else if (n.kind === "responder" && o.kind === n.kind && o.enabled && n.enabled && !o.external && !n.external) plan.responders.push(n);
    else if (n.kind === "model" && isArtifactOnly(o, n)) plan.models.push({ id, artifact: (n.config as { artifact: string }).artifact });
    else plan.needsRestart.push(...changedPaths(o, n, `plugins.${id}`));
  }
  return plan;
}

function isArtifactOnly(o: PluginEntry, n: PluginEntry): boolean {
  const without = (e: PluginEntry) => ({ ...e, config: { ...(e.config as object), artifact: undefined } });
  const artifact = (n.config as { artifact?: unknown } | null)?.artifact;
  return typeof artifact === "string" && artifact !== "" && isDeepStrictEqual(without(o), without(n));
}

export type ReloadParts = { config: XidsConfig; host: PluginHost; dataplane: DataPlanePort; control: Pick<ControlBackend, "allow" | "pushModel">; log: ScopedLogger };

/** Loads the config (`load` throws ConfigError with every problem) and applies it to the running
 *  agent; `config` is updated in place. The outcome is logged and answered. */
export async function reload(p: ReloadParts, load: () => XidsConfig): Promise<ReloadResponse> {
  const res = await apply(p, load).catch((err: Error) => ReloadResponse.create({ error: err.message }));
  if (res.error) p.log.error(`reload refused: ${res.error}${res.applied.length ? `; applied before that: [${res.applied.join("; ")}]` : "; nothing was changed"}`);
  else p.log.info(`reloaded: applied [${res.applied.join("; ")}]${res.needsRestart.length ? `; needs a restart to take effect: [${res.needsRestart.join(", ")}]` : ""}`);
  return res;
}

async function apply(p: ReloadParts, load: () => XidsConfig): Promise<ReloadResponse> {
  const next = load();
  const plan = planReload(p.config, next);
  const applied: string[] = [];
  const prepared: Awaited<ReturnType<PluginHost["prepareReplace"]>>[] = [];
  try {
    for (const entry of plan.responders) prepared.push(await p.host.prepareReplace(entry));
    for (const m of plan.models) {
      const r = await p.control.pushModel(m.artifact, m.id);
      applied.push(`plugins.${m.id}: model ${r.model} (version ${r.version})`);
    }
  } catch (err) {
    for (const r of prepared) await r.discard();
    return ReloadResponse.create({ applied, needsRestart: plan.needsRestart, error: (err as Error).message });
  }
  for (const r of prepared) await r.commit();
  applied.push(...plan.responders.map((e) => `plugins.${e.id}: restarted with its new settings`));
  for (const c of plan.allowAdd) p.control.allow(parseCidr(c) as Cidr), applied.push(`allow: +${c}`); // lifts the blocks inside it
  for (const c of plan.allowRemove) if (p.dataplane.disallow(parseCidr(c) as Cidr)) applied.push(`allow: -${c}`);
  p.config.allow = next.allow;
  if (plan.block.length) {
    p.dataplane.kernel?.setBlocking(blocking(next.pipeline.block));
    Object.assign(p.config.pipeline.block, next.pipeline.block); // the object xdp-drop reads
    applied.push(...plan.block.map((k) => `${k}: ${JSON.stringify(next.pipeline.block[k.slice(15) as keyof XidsConfig["pipeline"]["block"]])}`));
  }
  const changed = new Set([...plan.responders.map((e) => e.id), ...plan.models.map((m) => m.id)]);
  p.config.plugins = p.config.plugins.map((e) => (changed.has(e.id) ? next.plugins.find((n) => n.id === e.id)! : e));
  for (const s of p.host.status()) {
    if (changed.has(s.id) || !p.host.api(s.id, s.kind)?.reopen) continue;
    const done = await p.host.call(s.id, s.kind, "reopen", (api) => api.reopen!()).then(() => "reopened its files", (err: Error) => `reopen failed: ${err.message}`);
    applied.push(`plugins.${s.id}: ${done}`);
  }
  return ReloadResponse.create({ applied, needsRestart: plan.needsRestart });
}
