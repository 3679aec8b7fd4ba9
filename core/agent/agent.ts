// The running agent: starts the parts in order and stops them in reverse. Start order: data plane
// (attach or re-adopt XDP), allow list, plugins (in file order), the pipeline and the extractor
// streams that feed it, the control API, HTTP (metrics, live page). Records that end while the
// plugins start wait in the pipeline's bounded queue.
import { dirname, resolve } from "node:path";
import type { XidsConfig } from "../config/config.ts";
import { startControlServer, type ControlBackend, type ControlServerHandle } from "../control/server.ts";
import { WatchHub } from "../control/watch.ts";
import { COUNTER_NAMES, MAX_BLOCK_REASONS } from "../ebpf/abi.ts";
import { KernelDataPlane } from "../ebpf/kernel-dataplane.ts";
import { MemoryDataPlane } from "../ebpf/memory-dataplane.ts";
import type { DataPlanePort } from "../ebpf/port.ts";
import type { Catalog } from "../host/catalog.ts";
import { PluginHost } from "../host/host.ts";
import { registerCoreMetrics } from "../observe/core-metrics.ts";
import { BlockPages, PageError } from "../observe/block-pages.ts";
import { recentRow, startHttp, type HttpHandle, type ObserveSource, type RecentDetection } from "../observe/http.ts";
import { MetricsRegistry } from "../observe/registry.ts";
import { openExtractorStreams } from "../pipeline/extractors.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { coreServices, type ArtifactLoader, type Explainer, type ModelInUse, type Shadow, type ShadowFactory } from "../plugin-api/services.ts";
import { createLogger, type ScopedLogger } from "../util/log.ts";
import { parseCidr, parseIp, type Cidr } from "../util/net.ts";
import { VERSION } from "../util/version.ts";
import { controlBackend } from "./control-backend.ts";
import { EvidenceBuffer } from "./evidence.ts";
import { ExplainResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { reload } from "./reload.ts";
import { loadConfigFile } from "../config/load.ts";
import { ModelVersions } from "./model-versions.ts";

export { VERSION };

export interface AgentOptions {
  /** The built-in plugins the configuration may name (plugins/index.ts). */
  catalog: Catalog;
  /** Checks model artifacts for PushModel and the model plugins (plugins/index.ts). */
  artifacts?: ArtifactLoader;
  /** `xids model shadow`'s evaluator (plugins/index.ts); without it the Shadow rpcs are refused. */
  shadow?: ShadowFactory;
  /** The live page's "why blocked" (plugins/index.ts); without it /api/explain answers the evidence. */
  explainer?: Explainer;
  configPath?: string;
  log?: ScopedLogger;
  /** Replace the data plane (tests); default: attached XDP if an interface is set, else memory. */
  dataplane?: DataPlanePort;
}

const RECENT = 20;

export class Agent implements ObserveSource {
  readonly watch: WatchHub;
  readonly host: PluginHost;
  readonly pipeline: Pipeline;
  readonly metricsRegistry = new MetricsRegistry();
  readonly models = new ModelVersions();
  readonly evidence: EvidenceBuffer;
  readonly control: ControlBackend;
  readonly shadow: Shadow | null;
  private controlServer: ControlServerHandle | null = null;
  private http: HttpHandle | null = null;
  private readonly recent: RecentDetection[] = [];
  private readonly startedAtMs = Date.now();
  private closeStreams: () => void = () => {};
  private lostTimer: ReturnType<typeof setInterval> | null = null;
  private lostSeen = 0;
  private stopping = false;
  /** pipeline.block.reason_names, else "detection" for pipeline.block.reason and "manual" for 0 (`xids block`'s). */
  readonly reasonNames: string[];
  readonly blockPages = new BlockPages(() => this.dataplane.listBlocked());
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly config: XidsConfig,
    private readonly opts: AgentOptions,
    private readonly log: ScopedLogger,
    readonly dataplane: DataPlanePort,
  ) {
    const { reason, reason_names: names } = config.pipeline.block;
    this.reasonNames = Array.from({ length: MAX_BLOCK_REASONS }, (_, i) => names[i] || (i === reason ? "detection" : i === 0 ? "manual" : `reason ${i}`));
    this.watch = new WatchHub(config.watch.queue_size, config.watch.max_clients);
    const model: ModelInUse = { push: (dir: string) => this.control.pushModel(dir, ""), current: (plugin?: string) => this.modelInUse(plugin) };
    const services: Record<string, (pluginId: string) => unknown> = {
      [coreServices.dataplane.id]: () => dataplane,
      [coreServices.metrics.id]: (pluginId) => this.metricsRegistry.forPlugin(pluginId),
      [coreServices.blockSettings.id]: () => config.pipeline.block,
      [coreServices.model.id]: () => model,
      ...(opts.artifacts ? { [coreServices.artifacts.id]: () => opts.artifacts } : {}),
    };
    const moduleBase = opts.configPath ? dirname(resolve(opts.configPath)) : process.cwd();
    this.host = new PluginHost({ entries: config.plugins, catalog: opts.catalog, services: (id, pluginId) => services[id]?.(pluginId), log, moduleBase, configFile: opts.configPath });
    this.pipeline = new Pipeline(config.pipeline, this.host, log.child("pipeline"));
    this.pipeline.onFlow((r) => this.watch.publishFlow(r));
    this.evidence = new EvidenceBuffer().follow(this.pipeline);
    this.shadow = opts.shadow?.({ block: config.pipeline.block, model }) ?? null;
    this.pipeline.onVerdict((r, c, m) => this.shadow?.observe(r, c, m));
    this.pipeline.onDetection((d) => {
      this.watch.publishDetection(d);
      this.recent.push(recentRow(d));
      if (this.recent.length > RECENT) this.recent.shift();
    });
    const backend = controlBackend({
      config, configPath: opts.configPath ?? "", startedAtMs: this.startedAtMs, dataplane, host: this.host, pipeline: this.pipeline,
      watch: this.watch, models: this.models, artifacts: opts.artifacts ?? null, evidence: this.evidence, shadow: this.shadow, log,
    });
    this.control = { ...backend, blockPages: this.blockPages, reload: () => this.reload(opts) };
    registerCoreMetrics(this.metricsRegistry, this.metricsSource(), dataplane.kernel ? COUNTER_NAMES : []);
  }

  static async start(config: XidsConfig, opts: AgentOptions): Promise<Agent> {
    const log = opts.log ?? createLogger("xids", config.log.level, undefined, config.log.format);
    let dataplane = opts.dataplane;
    if (!dataplane) {
      if (config.dataplane.interfaces.length > 0) dataplane = KernelDataPlane.open(config.dataplane, config.pipeline.block, log.child("dataplane"));
      else {
        log.warn("no dataplane.interfaces configured: nothing is attached, block/allow lists are kept in memory only");
        dataplane = new MemoryDataPlane(config.dataplane);
      }
    }
    let agent: Agent;
    try {
      agent = new Agent(config, opts, log, dataplane);
    } catch (err) {
      await dataplane.close();
      throw err;
    }
    // Each step that can fail names itself in the error, so `xids run` says what did not start.
    const step = <T>(what: string, fn: () => T | Promise<T>): Promise<T> =>
      Promise.resolve().then(fn).catch((err: Error) => Promise.reject(new Error(`${what}: ${err.message}`)));
    try {
      await step("allow list", () => config.allow.forEach((c) => agent.dataplane.allow(parseCidr(c) as Cidr)));
      await agent.host.start();
      await agent.models.read(agent.host);
      agent.pipeline.start();
      agent.closeStreams = openExtractorStreams(agent.host, (r) => agent.pipeline.ingest(r), log);
      agent.warnIfRingUndrained();
      agent.controlServer = await step("control API", () => startControlServer(config.control, agent.control, log.child("control")));
      if (config.http.listen) agent.http = await step(`http.listen ${config.http.listen}`, () => startHttp(config.http.listen, agent, log.child("http")));
      agent.lostTimer = setInterval(() => agent.reportLost(), 1_000);
      log.info(`running: models [${config.pipeline.models.join(", ")}], responders [${config.pipeline.responders.join(", ")}], xdp ${agent.dataplane.xdpMode}`);
      return agent;
    } catch (err) {
      await agent.stop({ failedStart: true });
      throw err;
    }
  }

  /** SIGHUP, `xids reload`: re-reads and checks the config file and applies what can change live,
   *  one reload at a time (core/agent/reload.ts). No file: the built-in defaults, as running. */
  reload(opts: Pick<AgentOptions, "configPath" | "catalog">) {
    const load = () => (opts.configPath ? loadConfigFile(opts.configPath, opts.catalog) : this.config);
    const run = this.reloading.then(() => reload({ config: this.config, host: this.host, dataplane: this.dataplane, control: this.control, log: this.log }, load));
    this.reloading = run.catch(() => {});
    return run;
  }

  /** The pipeline's counters and the detection counts, as the tests and `xids stats` read them. */
  get counters() {
    const c = this.pipeline.counters, d = this.pipeline.detections.counts;
    return {
      ...c,
      detections: d.detections,
      responderErrors: d.responderErrors,
      responderOverflow: d.responderOverflow,
      responderQueued: this.pipeline.detections.queued,
      blocks: d.byAction.get("blocked") ?? 0,
      blocksSkippedAllowed: d.byAction.get("allowed") ?? 0,
      modelUpdates: this.models.updates.ok,
      modelUpdateFailures: this.models.updates.failed,
    };
  }

  get controlTcp(): string | null {
    return this.controlServer?.tcpAddress ?? null;
  }

  /** Base URL of the metrics / live page server, null when http.listen is off. */
  get httpUrl(): string | null {
    return this.http?.url ?? null;
  }

  /** Feeds one record into the pipeline as an extractor would (tests, embedders). */
  ingest(record: Parameters<Pipeline["ingest"]>[0]): void {
    if (!this.stopping) this.pipeline.ingest(record);
  }

  /** Resolves once every queued record has been through the pipeline (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.pipeline.whenIdle();
  }

  /** An attached data plane whose ring buffer nobody reads loses every flow record: say so. */
  private warnIfRingUndrained(): void {
    if (this.dataplane.kernel && this.host.ids("extractor").length === 0) {
      this.log.warn("XDP is attached but no extractor plugin reads its flow records: they are lost (xids_kernel_records_lost_total); add { id: xdp, kind: extractor, builtin: xdp }");
    }
  }

  /** Lost ring-buffer records are surfaced, never silent. */
  private reportLost(): void {
    const lost = this.dataplane.lostRecords();
    if (lost > this.lostSeen) this.log.warn(`ring buffer full: ${lost - this.lostSeen} flow record(s) lost (${lost} in total)`);
    this.lostSeen = lost;
  }

  // ---- ObserveSource (metrics, live page) ----

  async explain(address: string): Promise<unknown> {
    const addr = parseIp(address);
    if (!addr) throw new PageError(`address: expected an IPv4 or IPv6 host address, got "${address}"`);
    const res = await this.control.explain(addr);
    return this.opts.explainer ? this.opts.explainer(res) : ExplainResponse.toJSON(res);
  }

  async metrics(): Promise<{ text: string; contentType: string }> {
    return { text: await this.metricsRegistry.text(), contentType: this.metricsRegistry.contentType };
  }

  private metricsSource() {
    const dp = this.dataplane;
    return {
      version: VERSION,
      startedAtMs: this.startedAtMs,
      dataplane: () => ({
        ifname: dp.ifname, xdpMode: dp.xdpMode, kernel: dp.stats(), blockedHosts: this.blockPages.page(0, 0, "").total, // the snapshot: no full read per scrape
        allowedCidrs: dp.listAllowed().length, readopted: dp.readopted, ringbufLost: dp.lostRecords(),
      }),
      pipeline: () => this.counters,
      modelUpdates: () => this.models.updates,
      plugins: () => this.host.status(),
      models: () => this.models.list(this.host.ids("model")),
      watch: () => ({ clients: this.watch.size, lost: this.watch.lost }),
    };
  }

  /** The first of pipeline.models (or model plugin `plugin`) and what it runs (version 0: not known). */
  modelInUse(plugin?: string): { target: string; model: string; version: number; artifact?: string } {
    const target = plugin ?? this.config.pipeline.models[0] ?? "";
    return { target, model: "", version: 0, ...this.models.get(target) };
  }

  live(): ReturnType<ObserveSource["live"]> {
    const k = this.dataplane.stats();
    const m = this.modelInUse();
    const c = this.counters;
    return {
      time: Date.now(),
      version: VERSION,
      uptimeMs: Date.now() - this.startedAtMs,
      interface: this.dataplane.ifname,
      xdpMode: this.dataplane.xdpMode,
      model: m.version ? `${m.target} (${m.model})` : m.target,
      modelVersion: m.version,
      totals: {
        pkts_seen: k.pkts_seen ?? 0,
        pkts_passed: k.pkts_passed ?? 0,
        pkts_dropped: k.pkts_dropped ?? 0,
        drop_blocked: k.drop_blocked ?? 0,
        flows_received: c.flowsReceived,
        detections: c.detections,
        blocks: c.blocks,
      },
      recent: this.recent,
    };
  }

  /** Stops everything in reverse start order. Idempotent; never throws. After a failed start the
   *  data plane takes back only what this start created. */
  async stop(opts: { failedStart?: boolean } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.lostTimer) clearInterval(this.lostTimer);
    const step = async (what: string, fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (err) {
        this.log.error(`stop ${what}: ${(err as Error).message}`);
      }
    };
    await step("http", () => this.http?.close());
    await step("control API", () => this.controlServer?.close());
    await step("flow sources", () => this.closeStreams());
    // Let the batch in flight finish before its plugins go away (bounded).
    await step("pipeline", () => this.pipeline.stop());
    await step("shadow", () => this.shadow?.close());
    await step("plugins", () => this.host.stop());
    await step("data plane", () => this.dataplane.close(opts));
    this.log.info("stopped");
  }
}
