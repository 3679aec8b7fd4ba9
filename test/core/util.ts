// Helpers for the core tests: temp dirs for sockets, spawned processes that are always killed,
// polling with a deadline, and in-process plugin instances with test services.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { MemoryDataPlane } from "../../core/runtime/dataplane-adapter.ts";
import { modelsArtifactLoader, RecordingModelUpdater } from "../../core/runtime/model-adapter.ts";
import type { CoreServices } from "../../core/runtime/ports.ts";
import { createLogger } from "../../core/runtime/log.ts";
import type { ApiByKind, PluginKindName, PluginRegistration } from "../../core/plugins/types.ts";
import { validate } from "../../core/config/schema.ts";

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
  using p = new Proc([BUN, join(REPO, "core/cli/main.ts"), ...args], { env });
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

export function testServices(): CoreServices {
  return { dataplane: new MemoryDataPlane(), artifacts: modelsArtifactLoader, modelUpdater: new RecordingModelUpdater() };
}

export const quietLog = createLogger("test", "error");

/** Starts a built-in plugin in-process, its config checked by its own schema. */
export async function startBuiltin<K extends PluginKindName, C>(reg: PluginRegistration<K, C>, config: unknown, id = reg.name): Promise<ApiByKind[K]> {
  const checked = validate(reg.config, config);
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return reg.init({ id, config: checked.value, log: quietLog, services: testServices(), signal: new AbortController().signal });
}
