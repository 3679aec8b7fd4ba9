// Reload (SIGHUP, `xids reload`): a re-read config that passed its whole check is applied live
// with XDP attached throughout. The allow list is diffed into the kernel's (new CIDRs in before old
// ones out); a responder whose entry changed starts anew and replaces the old instance only once
// it runs; a model whose only change is its artifact goes through PushModel's checked hot update;
// every plugin that can reopen its files does (log rotation). Any other difference is named as
// needing a restart, never silently ignored. Whatever fails before the commit changes nothing.
import { isDeepStrictEqual } from "node:util";
import { ReloadResponse } from "../../proto/gen/xids/control/v1/control.ts";
import type { PluginEntry, XidsConfig } from "../config/config.ts";
import type { ControlBackend } from "../control/server.ts";
import type { DataPlanePort } from "../ebpf/port.ts";
import type { PluginHost } from "../host/host.ts";
import type { ScopedLogger } from "../util/log.ts";
import { parseCidr, type Cidr } from "../util/net.ts";

export interface ReloadPlan {
  allowAdd: string[];
  allowRemove: string[];
  /** In-process responders whose entry changed: started again with it. */
  responders: PluginEntry[];
  /** Model plugins whose only change is config.artifact. */
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
  const plan: ReloadPlan = { allowAdd: now.filter((c) => !was.includes(c)), allowRemove: was.filter((c) => !now.includes(c)), responders: [], models: [], needsRestart: [] };
  // `fleet:` is the fleet plugin's entry, compared with the plugins.
  for (const key of Object.keys({ ...cur, ...next }) as (keyof XidsConfig)[]) {
    if (key !== "allow" && key !== "plugins" && key !== "fleet") plan.needsRestart.push(...changedPaths(cur[key], next[key], key));
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

export interface ReloadParts {
  config: XidsConfig;
  host: PluginHost;
  dataplane: DataPlanePort;
  control: Pick<ControlBackend, "allow" | "pushModel">;
  log: ScopedLogger;
}

/** Applies `next` (already checked) to the running agent; `config` is updated in place. */
export async function applyReload(p: ReloadParts, next: XidsConfig): Promise<ReloadResponse> {
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
  for (const c of plan.allowAdd) applied.push(`allow: +${c}${lifted(p.control.allow(parseCidr(c) as Cidr).unblocked)}`);
  for (const c of plan.allowRemove) if (p.dataplane.disallow(parseCidr(c) as Cidr)) applied.push(`allow: -${c}`);
  p.config.allow = next.allow;
  const changed = new Set([...plan.responders.map((e) => e.id), ...plan.models.map((m) => m.id)]);
  p.config.plugins = p.config.plugins.map((e) => (changed.has(e.id) ? next.plugins.find((n) => n.id === e.id)! : e));
  for (const s of p.host.status()) {
    if (changed.has(s.id) || !p.host.api(s.id, s.kind)?.reopen) continue;
    await p.host.call(s.id, s.kind, "reopen", (api) => api.reopen!()).then(
      () => applied.push(`plugins.${s.id}: reopened its files`),
      (err: Error) => applied.push(`plugins.${s.id}: reopen failed: ${err.message}`),
    );
  }
  return ReloadResponse.create({ applied, needsRestart: plan.needsRestart });
}

const lifted = (n: number) => (n ? ` (lifted ${n} block${n === 1 ? "" : "s"})` : "");
