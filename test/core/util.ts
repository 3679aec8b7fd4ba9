// Helpers for the core tests: temp dirs for sockets, spawned processes that are always killed,
// polling with a deadline, and in-process plugin instances with test services.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import { modelsArtifactLoader } from "../../plugins/models/artifact/loader.ts";
import { coreServices, type DataPlanePort } from "../../core/plugin-api/services.ts";
import type { ServiceProvider } from "../../core/host/host.ts";
import { MetricsRegistry } from "../../core/observe/registry.ts";
import { createLogger } from "../../core/util/log.ts";
import type { ApiByKind, Deps, PluginKindName, PluginRegistration, ResolvedDeps } from "../../core/plugin-api/types.ts";
import { validate } from "../../core/config/schema.ts";
import type { XidsConfig } from "../../core/config/config.ts";

export const REPO = resolve(import.meta.dir, "..", "..");
export const BUN = process.execPath;

export class TempDir implements Disposable {
  readonly path = mkdtempSync(join(tmpdir(), "xids-t-"));
  file(name: string): string {
    return join(this.path, name);
  }
  [Symbol.dispose](): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** A child process killed (SIGKILL) on dispose if still running. */
export class Proc implements Disposable {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  out = "";
  err = "";
  constructor(argv: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
    this.proc = Bun.spawn(argv, { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    void this.collect(this.proc.stdout, (s) => (this.out += s));
    void this.collect(this.proc.stderr, (s) => (this.err += s));
  }
  private async collect(stream: ReadableStream<Uint8Array>, add: (s: string) => void) {
    const dec = new TextDecoder();
    for await (const chunk of stream) add(dec.decode(chunk, { stream: true }));
  }
  get pid(): number {
    return this.proc.pid;
  }
  async exited(ms = 10_000): Promise<number> {
    const t = setTimeout(() => this.proc.kill("SIGKILL"), ms);
    const code = await this.proc.exited;
    clearTimeout(t);
    return code;
  }
  [Symbol.dispose](): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }
}

/** Runs the xids CLI to completion. */
export async function xids(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  using p = new Proc([BUN, join(REPO, "core/main.ts"), ...args], { env });
  const code = await p.exited(30_000);
  await Bun.sleep(5);
  return { code, out: p.out, err: p.err };
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, ms = 10_000, every = 25): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await Bun.sleep(every);
  }
}

const stateDirs: string[] = [];
process.on("exit", () => {
  for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
});

/** The dataplane defaults, but with a state_dir of its own (removed when the test process
 *  exits): tests never touch /var/lib/xids, and each starts its model versions at 1. */
export function testDataplaneSettings(): XidsConfig["dataplane"] {
  const stateDir = mkdtempSync(join(tmpdir(), "xids-state-"));
  stateDirs.push(stateDir);
  return { ...MemoryDataPlane.defaults(), state_dir: stateDir };
}

/** Core services for plugins run outside an agent: a memory data plane (state in a temp dir),
 *  the real artifact checks, a metrics registry of their own and the default block settings. */
export function testServices(dataplane: DataPlanePort = new MemoryDataPlane(testDataplaneSettings())): ServiceProvider & { metrics: MetricsRegistry } {
  const metrics = new MetricsRegistry();
  const byId: Record<string, (pluginId: string) => unknown> = {
    [coreServices.dataplane.id]: () => dataplane,
    [coreServices.artifacts.id]: () => modelsArtifactLoader,
    [coreServices.metrics.id]: (id) => metrics.forPlugin(id),
    [coreServices.blockSettings.id]: () => ({ enabled: true, ttl_seconds: 300, reason: 1, min_attacks: 1, min_attack_pct: 0, window_seconds: 10 }),
  };
  return Object.assign((serviceId: string, pluginId: string) => byId[serviceId]?.(pluginId), { metrics });
}

function resolveDeps<D extends Deps>(deps: D | undefined, pluginId: string, services: ServiceProvider): ResolvedDeps<D> {
  return Object.fromEntries(Object.entries(deps ?? {}).map(([k, ref]) => [k, services(ref.id, pluginId)])) as ResolvedDeps<D>;
}

export const quietLog = createLogger("test", "error");

/** Starts a built-in plugin in-process, its config checked by its own schema. */
export async function startBuiltin<K extends PluginKindName, C, D extends Deps>(reg: PluginRegistration<K, C, D>, config: unknown, id = reg.name, services = testServices()): Promise<ApiByKind[K]> {
  const checked = validate(reg.config, config);
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return reg.init({ id, config: checked.value, log: quietLog, deps: resolveDeps(reg.deps, id, services), signal: new AbortController().signal });
}
