// The plugin lifecycle runner. It starts plugins in config order and stops them in reverse; it
// wraps every call into a plugin with the plugin's id, the hook name and the plugin's deadline,
// and turns any failure (throw, rejection, timeout) into a PluginError the caller handles, so one
// plugin failing never takes the core down. Per plugin, `on_start_failure` decides whether a
// failing init aborts start-up (everything already started is stopped again) or leaves the
// plugin failed and the system degraded. External plugins are supervised (restart with backoff)
// and health-checked.
import type { PluginEntry } from "../config/config.ts";
import { Unimplemented, remotePlugin } from "../bus/remote.ts";
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { unixPath } from "../bus/grpc.ts";
import { HealthResponse_Status } from "../../proto/gen/xids/plugin/v1/common.ts";
import { kindEnum, kindName } from "../config/plugin-kinds.ts";
import type { ScopedLogger } from "../util/log.ts";
import type { ApiByKind, Deps, PluginKindName, PluginRegistration, ResolvedDeps } from "../plugin-api/types.ts";
import { PLUGIN_API } from "../plugin-api/info.ts";
import { FEATURE_SETS } from "../ebpf/abi.ts";
import { importPlugin, type Catalog } from "./catalog.ts";
import { validate } from "../config/schema.ts";
import { ConfigError, locateIn } from "../config/load.ts";
import { Ajv } from "ajv";
import { ProcessSupervisor } from "./supervisor.ts";

export type PluginState = "starting" | "running" | "degraded" | "restarting" | "stopped" | "failed";

export class PluginError extends Error {
  constructor(
    readonly pluginId: string,
    readonly hook: string,
    readonly reason: string,
  ) {
    super(`plugin "${pluginId}" ${hook}: ${reason}`);
  }
}

export class StartupError extends Error {}

export type { Catalog };

/** Gives a plugin the core services it declared; undefined = this core has no such service. */
export type ServiceProvider = (serviceId: string, pluginId: string) => unknown;

export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms (${what})`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

interface Slot {
  entry: PluginEntry;
  api: ApiByKind[PluginKindName] | null;
  state: PluginState;
  lastError: string;
  calls: number;
  errors: number;
  supervisor: ProcessSupervisor | null;
  stop: (() => Promise<void>) | null;
  abort: AbortController;
  /** Built-in responders that run in line (PluginRegistration.inline). */
  inline: boolean;
  /** Health checks in a row that got no answer (a hung plugin is restarted at HUNG_AFTER). */
  unanswered: number;
  retry: ReturnType<typeof setTimeout> | null;
}

/** Health checks in a row without an answer after which a supervised plugin's process is killed (and restarted). */
export const HUNG_AFTER = 3;
/** A plugin that failed at start under `degrade` is tried again after 1 s, 2 s, 4 s ... up to this. */
const RETRY_MAX_MS = 30_000;

export interface HostOptions {
  entries: PluginEntry[];
  catalog: Catalog;
  services: ServiceProvider;
  log: ScopedLogger;
  /** Where a relative `module:` path starts (the config file's folder); default the working directory. */
  moduleBase?: string;
  /** The config file, to put problems found at start at their line. */
  configFile?: string;
  /** How often external plugins are health-checked. */
  healthIntervalMs?: number;
  onStateChange?(id: string, state: PluginState, detail: string): void;
}

export class PluginHost {
  private readonly slots: Slot[] = [];
  private readonly byId = new Map<string, Slot>();
  private healthTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(private readonly opts: HostOptions) {
    for (const entry of opts.entries) {
      if (!entry.enabled) continue;
      const inline = entry.builtin !== undefined && opts.catalog.get(entry.builtin)?.inline === true;
      const slot: Slot = { entry, api: null, state: "stopped", lastError: "", calls: 0, errors: 0, supervisor: null, stop: null, abort: new AbortController(), inline, unanswered: 0, retry: null };
      this.slots.push(slot);
      this.byId.set(entry.id, slot);
    }
  }

  /** Starts every plugin in order. Throws StartupError (after stopping what started) on an abort. */
  async start(): Promise<void> {
    const started: Slot[] = [];
    for (const slot of this.slots) {
      this.setState(slot, "starting", "");
      try {
        await this.startSlot(slot);
        this.setState(slot, "running", "");
        started.push(slot);
      } catch (err) {
        const reason = (slot.lastError = err instanceof Error ? err.message : String(err));
        await this.stopSlot(slot);
        if (slot.entry.on_start_failure === "abort") {
          this.setState(slot, "failed", reason);
          for (const s of started.reverse()) await this.stopSlot(s);
          throw new StartupError(`plugin "${slot.entry.id}" failed to start: ${reason} (on_start_failure: abort)`);
        }
        this.setState(slot, "failed", `${reason} (on_start_failure: degrade, running without it; retrying)`);
        this.retryLater(slot, 1_000);
      }
    }
    this.healthTimer = setInterval(() => void this.checkHealth(), this.opts.healthIntervalMs ?? 1_000);
  }

  /** Tries a start that failed under `degrade` again, with doubling delays, until it succeeds. */
  private retryLater(slot: Slot, ms: number): void {
    slot.retry = setTimeout(async () => {
      slot.abort = new AbortController();
      this.setState(slot, "starting", `retry after ${ms} ms`);
      try {
        await this.startSlot(slot);
        this.setState(slot, "running", "");
      } catch (err) {
        await this.stopSlot(slot);
        this.setState(slot, "failed", `${(err as Error).message} (retry in ${Math.min(ms * 2, RETRY_MAX_MS)} ms)`);
        if (!this.stopped) this.retryLater(slot, Math.min(ms * 2, RETRY_MAX_MS));
      }
    }, ms);
  }

  private async startSlot(slot: Slot): Promise<void> {
    const { entry } = slot;
    const log = this.opts.log.child(entry.id);
    if (entry.builtin !== undefined || entry.module !== undefined) {
      const reg = entry.module !== undefined ? await importPlugin(entry.module, this.opts.moduleBase ?? process.cwd()) : this.opts.catalog.get(entry.builtin!);
      if (!reg) throw new Error(`unknown built-in plugin "${entry.builtin}"`);
      if (reg.kind !== entry.kind) throw new Error(`${entry.module ? `module "${entry.module}"` : `built-in "${entry.builtin}"`} is a ${reg.kind} plugin`);
      // A module's config is checked here, against its own schema (a built-in's at config check).
      const config = entry.module === undefined ? { ok: true as const, value: entry.config } : validate(reg.config, entry.config, `plugins.${entry.id}.config`);
      if (!config.ok) throw new Error(config.issues.map((i) => `${i.path}: ${i.message}`).join("; "));
      slot.inline = reg.inline === true;
      const deps = this.resolveDeps(entry.id, reg.deps ?? {});
      const api = await withTimeout(
        reg.init({ id: entry.id, config: config.value, log, deps, signal: slot.abort.signal }),
        entry.timeout_ms,
        "init",
      );
      slot.api = api;
      slot.stop = reg.stop ? () => reg.stop!(api) : null;
      return;
    }
    const ext = entry.external!;
    const remote = remotePlugin(entry.kind, ext.address, { timeoutMs: entry.timeout_ms });
    slot.api = remote;
    if (ext.command) {
      const sup = new ProcessSupervisor({
        id: entry.id, argv: ext.command, env: ext.env, restart: ext.restart,
        socketPath: unixPath(ext.address) ?? undefined,
        log,
        onExit: ({ restartInMs }) => {
          if (restartInMs !== null) this.setState(slot, "restarting", `${sup.lastExit}; restart in ${restartInMs} ms`);
        },
        onSpawn: (pid, attempt) => log.info(`process started (pid ${pid}${attempt ? `, restart ${attempt}` : ""})`),
      });
      slot.supervisor = sup;
      sup.start();
    }
    slot.stop = async () => {
      remote.close();
      await slot.supervisor?.stop();
    };
    // Ready when Describe answers with the right kind.
    const until = Date.now() + ext.start_timeout_ms;
    let lastErr = "", schema = "";
    for (;;) {
      try {
        const info = await withTimeout(remote.describe(), Math.max(50, Math.min(entry.timeout_ms, until - Date.now())), "describe");
        if (info.kind !== kindEnum(entry.kind)) throw new Error(`Describe says kind ${kindName(info.kind)}, config says ${entry.kind}`);
        if (info.api !== PLUGIN_API && !info.api.startsWith(`${PLUGIN_API}.`)) throw new Error(`Describe says contract "${info.api}", this core speaks ${PLUGIN_API} (and its minor versions ${PLUGIN_API}.N)`);
        if (info.featureSet && !Object.values(FEATURE_SETS).includes(info.featureSet)) throw new Error(`Describe says feature set "${info.featureSet}", this core's records carry ${Object.values(FEATURE_SETS).join(" or ")}`);
        log.info(`connected to ${ext.address}: ${info.id} ${info.version}`);
        schema = info.configSchema;
        break;
      } catch (err) {
        lastErr = (err as Error).message;
        if (/Describe says/.test(lastErr)) throw err;
      }
      if (Date.now() >= until) throw new Error(`not ready at ${ext.address} within ${ext.start_timeout_ms} ms: ${lastErr}`);
      if (slot.supervisor && !slot.supervisor.running && slot.supervisor.lastExit) throw new Error(`process ${slot.supervisor.lastExit} before it was ready`);
      await Bun.sleep(50);
    }
    await this.configure(slot, remote, schema);
  }

  /** Checks an external plugin's `config:` against the schema it publishes, then hands it over;
   *  a problem or a refusal fails the start with its reason (and file:line). */
  private async configure(slot: Slot, remote: ApiByKind[PluginKindName], schema: string): Promise<void> {
    const config = slot.entry.config ?? {};
    const check = schema ? new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(schema)) : null;
    if (check && !check(config)) {
      const issues = check.errors!.map((e) => ({ path: `plugins[${this.opts.entries.indexOf(slot.entry)}].config${e.instancePath.replace(/\/([^/]+)/g, (_, k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`))}`, message: e.message ?? "invalid" }));
      throw new ConfigError(this.opts.configFile ? locateIn(this.opts.configFile, issues) : issues, this.opts.configFile);
    }
    await withTimeout(remote.configure!(slot.entry.id, config), slot.entry.timeout_ms, "configure").catch((err: Error & { details?: string }) => {
      // Unimplemented: it takes no configuration, which is fine when it is given none.
      if (err instanceof Unimplemented && Object.keys(config as object).length === 0) return;
      throw new Error(`Configure refused its config: ${err.details || err.message}`);
    });
  }

  private resolveDeps(pluginId: string, deps: Deps): ResolvedDeps<Deps> {
    const out: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(deps)) {
      const service = this.opts.services(ref.id, pluginId);
      if (service === undefined) throw new Error(`needs the core service "${ref.id}" (deps.${name}), which this core does not provide`);
      out[name] = service;
    }
    return out;
  }

  private async stopSlot(slot: Slot): Promise<void> {
    if (slot.retry) clearTimeout(slot.retry);
    slot.abort.abort();
    const stop = slot.stop;
    slot.stop = null;
    if (stop) {
      try {
        await withTimeout(stop(), slot.entry.timeout_ms + 2_500, "stop");
      } catch (err) {
        this.opts.log.child(slot.entry.id).error(`stop failed: ${(err as Error).message}`);
      }
    }
    slot.api = null;
    if (slot.state !== "failed" && slot.state !== "starting") this.setState(slot, "stopped", "");
  }

  /** Starts a second instance of an in-process plugin with a changed entry (reload). The old one
   *  serves until `commit` puts the new one in its place and stops it; `discard` drops the new one. */
  async prepareReplace(entry: PluginEntry): Promise<{ commit(): Promise<void>; discard(): Promise<void> }> {
    if (this.stopped) throw new Error("the plugin host is stopping");
    const old = this.byId.get(entry.id);
    if (!old || old.entry.kind !== entry.kind || old.entry.external || entry.external) throw new Error(`plugin "${entry.id}": only an in-process plugin of the same kind is replaced live`);
    const slot: Slot = { ...old, entry, api: null, stop: null, abort: new AbortController(), supervisor: null, retry: null, unanswered: 0, lastError: "", state: "starting" };
    await this.startSlot(slot).catch(async (err: Error) => {
      await this.stopSlot(slot);
      throw new Error(`plugin "${entry.id}" did not start with its new settings: ${err.message}`);
    });
    return {
      commit: async () => {
        [this.slots[this.slots.indexOf(old)], slot.state, old.state] = [slot, "running", "stopped"];
        this.byId.set(entry.id, slot);
        await this.stopSlot(old);
      },
      discard: () => this.stopSlot(slot),
    };
  }

  /** Stops every plugin, in reverse start order. Never throws. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    for (const slot of [...this.slots].reverse()) await this.stopSlot(slot);
  }

  /**
   * Calls into plugin `id` with its deadline; every failure becomes a PluginError naming the
   * plugin and the hook.
   */
  async call<K extends PluginKindName, T>(id: string, kind: K, hook: string, fn: (api: ApiByKind[K]) => Promise<T>): Promise<T> {
    const slot = this.byId.get(id);
    if (!slot) throw new PluginError(id, hook, "no such plugin");
    if (slot.entry.kind !== kind) throw new PluginError(id, hook, `is a ${slot.entry.kind} plugin, not a ${kind} plugin`);
    if (!slot.api || slot.state === "failed" || slot.state === "stopped") {
      throw new PluginError(id, hook, `not running (${slot.state}${slot.lastError ? `: ${slot.lastError}` : ""})`);
    }
    slot.calls++;
    try {
      return await withTimeout(
        Promise.resolve().then(() => fn(slot.api as ApiByKind[K])),
        slot.entry.timeout_ms,
        hook,
      );
    } catch (err) {
      slot.errors++;
      const reason = err instanceof Error ? err.message : String(err);
      slot.lastError = reason;
      throw new PluginError(id, hook, reason);
    }
  }

  /** Counts a contract violation against a plugin (status and xids_plugin_errors_total show it). */
  fault(id: string, reason: string): void {
    const slot = this.byId.get(id);
    if (!slot) return;
    slot.errors++;
    slot.lastError = reason;
  }

  /** The raw API of a running plugin (for capabilities like ModelApi.update). */
  api<K extends PluginKindName>(id: string, kind: K): ApiByKind[K] | null {
    const slot = this.byId.get(id);
    if (!slot || slot.entry.kind !== kind) return null;
    return slot.api as ApiByKind[K] | null;
  }

  /** True while the plugin runs and answers its health checks: the model chain skips it otherwise. */
  serving(id: string): boolean {
    return this.byId.get(id)?.state === "running";
  }

  /** True for a built-in responder that runs in line (its Ack becomes part of the detection). */
  isInline(id: string): boolean {
    return this.byId.get(id)?.inline ?? false;
  }

  ids(kind?: PluginKindName): string[] {
    return this.slots.filter((s) => !kind || s.entry.kind === kind).map((s) => s.entry.id);
  }

  status() {
    return this.slots.map((s) => ({
      id: s.entry.id,
      kind: s.entry.kind,
      state: s.state,
      external: s.entry.external !== undefined,
      address: s.entry.external?.address ?? "",
      restarts: s.supervisor?.restarts ?? 0,
      lastError: s.lastError,
      calls: s.calls,
      errors: s.errors,
    }));
  }

  /** True when a plugin is not running (failed at start or currently down). */
  degraded(): boolean {
    return this.slots.some((s) => s.state !== "running");
  }

  private setState(slot: Slot, state: PluginState, detail: string): void {
    if (slot.state === state) return;
    slot.state = state;
    if (detail) slot.lastError = detail;
    const log = this.opts.log.child(slot.entry.id);
    if (state === "failed" || state === "restarting" || state === "degraded") log.warn(`${state}${detail ? `: ${detail}` : ""}`);
    else log.info(state);
    this.opts.onStateChange?.(slot.entry.id, state, detail);
  }

  private healthRunning = false;

  /** Every plugin at once, each call with its timeout_ms (one slow answer delays no other's
   *  check); a round that is still running when the next is due is not piled onto. */
  private async checkHealth(): Promise<void> {
    if (this.healthRunning) return;
    this.healthRunning = true;
    await Promise.all(this.slots.map((slot) => this.checkOne(slot))).finally(() => (this.healthRunning = false));
  }

  private async checkOne(slot: Slot): Promise<void> {
    if (!slot.api || slot.state === "failed" || slot.state === "stopped" || slot.state === "starting") return;
    try {
      const h = await (slot.entry.external ? slot.api.health() : withTimeout(slot.api.health(), slot.entry.timeout_ms, "health"));
      slot.unanswered = 0;
      if (h.status === HealthResponse_Status.STATUS_SERVING) this.setState(slot, "running", "");
      else this.setState(slot, "degraded", `health: ${h.message || "not serving"}${slot.entry.kind === "model" ? " (no records until it serves)" : ""}`);
    } catch (err) {
      if (slot.state === "restarting") return;
      this.setState(slot, "degraded", `health: ${(err as Error).message}`);
      // Hung: it is reachable but does not answer in time (a refused connection is not that).
      if ((err as ServiceError).code !== grpcStatus.DEADLINE_EXCEEDED) return void (slot.unanswered = 0);
      if (++slot.unanswered >= HUNG_AFTER && slot.supervisor?.running) {
        this.opts.log.child(slot.entry.id).warn(`no health answer ${slot.unanswered} times in a row: the process is hung, killing it to restart it`);
        slot.unanswered = 0;
        slot.supervisor.kill();
      }
    }
  }
}
