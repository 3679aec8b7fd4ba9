// The `run` orchestration. One flow's path through it:
//   data plane ring buffer (or an extractor plugin) -> record queue (bounded) -> Watch (flows)
//   -> model chain (pipeline.models; the first model that gives a verdict wins, a model that
//      abstains or fails passes the record on) -> on ATTACK: block the source in the kernel map,
//      Watch (detections), every responder (isolated, with deadlines).
// Blocking is the XDP-drop responder (plugins/responders/xdp-drop), run in line before the others:
// the source goes into the kernel's block list (TTL and reason from pipeline.block) unless it is on
// the allow list, whatever the model says.
// Start order: data plane, allow list, plugins, control API, HTTP (metrics, live page); stop runs
// in reverse.
import { readFileSync } from "node:fs";
import { status as grpcStatus } from "@grpc/grpc-js";
import { Verdict, type Classification, type FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { BlockedHost, PluginStatus, PushModelResponse, Stats, StatusResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { PluginKind } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { XidsConfig } from "../config/config.ts";
import { RpcError } from "../bus/grpc.ts";
import { PluginHost, type Catalog } from "../plugins/host.ts";
import { builtinCatalog } from "../plugins/builtins.ts";
import type { Logger } from "../plugins/types.ts";
import { startControlServer, type ControlBackend, type ControlServerHandle } from "../control/server.ts";
import { WatchHub } from "../control/watch.ts";
import { KernelDataPlane, MemoryDataPlane, assignRecordId } from "../runtime/dataplane-adapter.ts";
import { modelsArtifactLoader, RecordingModelUpdater } from "../runtime/model-adapter.ts";
import { KernelModelUpdater } from "../runtime/kernel-updater.ts";
import { cidrContains, parseCidr, parseIp, type Cidr, type IpAddr } from "../runtime/net.ts";
import { startHttp, type HttpHandle, type LiveView, type ObserveSource } from "../observe/http.ts";
import type { MetricsSnapshot } from "../observe/metrics.ts";
import type { ArtifactLoader, CoreServices, DataPlanePort, ModelUpdater } from "../runtime/ports.ts";
import { createLogger } from "../runtime/log.ts";
import { XdpDropResponder, allowListed } from "../../plugins/responders/xdp-drop/index.ts";

export const VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

const KIND: Record<string, PluginKind> = {
  extractor: PluginKind.PLUGIN_KIND_EXTRACTOR,
  model: PluginKind.PLUGIN_KIND_MODEL,
  responder: PluginKind.PLUGIN_KIND_RESPONDER,
};

export interface AgentOptions {
  configPath?: string;
  log?: Logger & { child(scope: string): Logger };
  /** Replace the data plane (tests); default: KernelDataPlane if an interface is set, else memory. */
  dataplane?: DataPlanePort;
  artifacts?: ArtifactLoader;
  modelUpdater?: ModelUpdater;
  catalog?: Catalog;
}

export class Agent implements ControlBackend, ObserveSource {
  readonly watch: WatchHub;
  readonly host: PluginHost;
  readonly services: CoreServices;
  /** pipeline.block: the source of every detection goes into the kernel block list. */
  readonly xdpDrop: XdpDropResponder;
  private control: ControlServerHandle | null = null;
  private http: HttpHandle | null = null;
  /** The last detections, for the live page. */
  private readonly recent: LiveView["recent"] = [];
  private readonly started = Date.now();
  private readonly queue: FlowRecord[] = [];
  private batchTimer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;
  private stopping = false;
  private unsubs: (() => void)[] = [];
  private detectionSeq = 0;
  private readonly modelVersions = new Map<string, { model: string; version: number }>();
  readonly counters = {
    flowsReceived: 0,
    flowsClassified: 0,
    flowsDropped: 0,
    flowsUnclassified: 0,
    detections: 0,
    classifyErrors: 0,
    responderErrors: 0,
    blocks: 0,
    blocksSkippedAllowed: 0,
    modelUpdates: 0,
    modelUpdateFailures: 0,
  };
  private readonly idle: (() => void)[] = [];

  private constructor(
    readonly config: XidsConfig,
    private readonly opts: AgentOptions,
    private readonly log: Logger & { child(scope: string): Logger },
    dataplane: DataPlanePort,
  ) {
    this.watch = new WatchHub(config.watch.queue_size, config.watch.max_clients);
    this.services = {
      dataplane,
      artifacts: opts.artifacts ?? modelsArtifactLoader,
      modelUpdater:
        opts.modelUpdater ?? (dataplane instanceof KernelDataPlane ? new KernelModelUpdater(dataplane.modelSlots()) : new RecordingModelUpdater()),
    };
    this.xdpDrop = new XdpDropResponder(config.pipeline.block, dataplane, log.child("xdp-drop"));
    this.host = new PluginHost({ entries: config.plugins, catalog: opts.catalog ?? builtinCatalog, services: this.services, log });
  }

  get dataplane(): DataPlanePort {
    return this.services.dataplane;
  }

  get controlSocket(): string | null {
    return this.control?.socket ?? null;
  }

  get controlTcp(): string | null {
    return this.control?.tcpAddress ?? null;
  }

  /** Base URL of the metrics / live page server, null when http.listen is off. */
  get httpUrl(): string | null {
    return this.http?.url ?? null;
  }

  static async start(config: XidsConfig, opts: AgentOptions = {}): Promise<Agent> {
    const log = opts.log ?? createLogger("xids", config.log.level);
    let dataplane = opts.dataplane;
    if (!dataplane) {
      if (config.dataplane.interfaces.length > 0) dataplane = KernelDataPlane.open(config.dataplane, config.pipeline.block, log.child("dataplane"));
      else {
        log.warn("no dataplane.interfaces configured: nothing is attached, block/allow lists are kept in memory only");
        dataplane = new MemoryDataPlane();
      }
    }
    let agent: Agent;
    try {
      agent = new Agent(config, opts, log, dataplane);
    } catch (err) {
      await dataplane.close();
      throw err;
    }
    try {
      for (const c of config.allow) agent.dataplane.allow(parseCidr(c) as Cidr);
      // Records that end while the plugins start wait in the (bounded) queue.
      agent.unsubs.push(agent.dataplane.onFlow((r) => agent.ingest(r)));
      await agent.host.start();
      await agent.readModelVersions();
      agent.ready = true;
      agent.schedule();
      for (const id of agent.host.ids("extractor")) agent.startExtractor(id);
      agent.control = await startControlServer(config.control, agent, log.child("control"));
      if (config.http.listen) agent.http = startHttp(config.http.listen, agent, log.child("http"));
      agent.lostTimer = setInterval(() => agent.reportLost(), 1_000);
      log.info(`running: models [${config.pipeline.models.join(", ")}], responders [${config.pipeline.responders.join(", ")}], xdp ${agent.dataplane.xdpMode}`);
      return agent;
    } catch (err) {
      await agent.stop();
      throw err;
    }
  }

  private lostTimer: ReturnType<typeof setInterval> | null = null;
  private lostSeen = 0;

  /** Lost ring-buffer records are surfaced, never silent. */
  private reportLost(): void {
    const lost = this.dataplane.lostRecords();
    if (lost > this.lostSeen) this.log.warn(`ring buffer full: ${lost - this.lostSeen} flow record(s) lost (${lost} in total)`);
    this.lostSeen = lost;
  }

  /** What each model plugin runs at start (e.g. the kernel MLP loaded from config). */
  private async readModelVersions(): Promise<void> {
    for (const id of this.host.ids("model")) {
      try {
        const info = await this.host.call(id, "model", "describe", (api) => api.describe());
        const version = Number(info.properties.model_version ?? 0);
        if (version > 0) this.modelVersions.set(id, { model: info.properties.model ?? "", version });
      } catch {
        // reported by the host; status shows version 0
      }
    }
  }

  private startExtractor(id: string): void {
    const api = this.host.api(id, "extractor");
    if (!api) return;
    const log = this.log.child(id);
    let stop = () => {};
    const open = () => {
      if (this.stopping) return;
      stop = api.stream(
        (r) => this.ingest(assignRecordId({ ...r, source: r.source || id })),
        (err) => {
          log.warn(`flow stream ended: ${err.message}; reopening in 500 ms`);
          setTimeout(open, 500);
        },
      );
    };
    open();
    this.unsubs.push(() => stop());
  }

  /** Entry point of every flow record. Never blocks: a full queue drops and counts. */
  ingest(record: FlowRecord): void {
    if (this.stopping) return;
    this.counters.flowsReceived++;
    this.watch.publishFlow(record);
    if (this.queue.length >= this.config.pipeline.queue_size) {
      this.counters.flowsDropped++;
      return;
    }
    this.queue.push(record);
    this.schedule();
  }

  private ready = false;

  private schedule(): void {
    if (this.busy || !this.ready || this.queue.length === 0) return;
    if (this.queue.length >= this.config.pipeline.batch_size) {
      void this.runBatch();
    } else if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = null;
        void this.runBatch();
      }, this.config.pipeline.batch_wait_ms);
    }
  }

  private async runBatch(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    if (this.batchTimer) {
      clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
    this.busy = true;
    try {
      const batch = this.queue.splice(0, this.config.pipeline.batch_size);
      await this.classify(batch);
    } catch (err) {
      this.log.error(`pipeline: ${(err as Error).message}`);
    } finally {
      this.busy = false;
      if (this.queue.length > 0) this.schedule();
      else for (const f of this.idle.splice(0)) f();
    }
  }

  private async classify(batch: FlowRecord[]): Promise<void> {
    let pending = batch;
    for (const modelId of this.config.pipeline.models) {
      if (pending.length === 0) break;
      let results: Classification[];
      try {
        // Checked inside the call, so a malformed answer counts against the plugin like a throw.
        results = await this.host.call(modelId, "model", "classify", async (api) => {
          const res = await api.classify(pending);
          if (res.length !== pending.length) throw new Error(`answered ${res.length} results for ${pending.length} records`);
          const wrong = res.findIndex((r, i) => r.flowId !== pending[i]!.id);
          if (wrong !== -1) throw new Error(`result ${wrong} is for flow ${res[wrong]!.flowId}, expected ${pending[wrong]!.id} (answers must be in input order)`);
          return res;
        });
      } catch (err) {
        this.counters.classifyErrors++;
        this.log.child(modelId).debug((err as Error).message);
        continue; // the next model in the chain gets the same records
      }
      const next: FlowRecord[] = [];
      pending.forEach((record, i) => {
        const c = results[i]!;
        if (c.verdict === Verdict.VERDICT_NONE) next.push(record);
        else {
          this.counters.flowsClassified++;
          if (c.verdict === Verdict.VERDICT_ATTACK) this.detect(record, c, modelId);
        }
      });
      pending = next;
    }
    this.counters.flowsUnclassified += pending.length;
  }

  /** The allow-list CIDR containing `addr`, if any. */
  allowListed(addr: IpAddr): string | null {
    return allowListed(this.dataplane, addr);
  }

  private detect(record: FlowRecord, classification: Classification, detector: string): void {
    // The XDP-drop responder runs first and in line: nothing else can delay the block.
    const action = this.xdpDrop.respond(record);
    if (action.type === "blocked") this.counters.blocks++;
    if (action.type === "allowed") this.counters.blocksSkippedAllowed++;
    const blocked = action.type === "blocked" || action.type === "kernel-blocked";
    const detection = Detection.create({
      id: `d-${this.started.toString(36)}-${++this.detectionSeq}`,
      timeUnixMs: Date.now(),
      record,
      classification,
      detector,
      blockTtlSeconds: blocked ? action.ttlSeconds : 0,
      action: action.type,
    });
    this.counters.detections++;
    this.recent.push({
      time: detection.timeUnixMs,
      src: record.srcAddr,
      dst: record.dstAddr,
      dstPort: record.dstPort,
      protocol: record.protocol,
      label: classification.label,
      score: classification.score,
      detector,
      action: blocked ? `blocked ${action.ttlSeconds}s` : action.type === "allowed" ? `not blocked (allow ${action.allow})` : action.type === "failed" ? `block failed: ${action.error}` : "alert",
    });
    if (this.recent.length > 20) this.recent.shift();
    this.watch.publishDetection(detection);
    for (const id of this.config.pipeline.responders) {
      this.host.call(id, "responder", "handle", (api) => api.handle(detection)).then(
        (ack) => {
          if (!ack.accepted) {
            this.counters.responderErrors++;
            this.log.child(id).warn(`refused detection ${detection.id}: ${ack.message}`);
          }
        },
        (err: Error) => {
          this.counters.responderErrors++;
          this.log.child(id).warn(err.message);
        },
      );
    }
  }

  /** Resolves once every queued record has been through the pipeline (tests, shutdown). */
  whenIdle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  // ---- ControlBackend ----

  status(): StatusResponse {
    const plugins = this.host.status();
    const model = this.config.pipeline.models[0] ?? "";
    return StatusResponse.create({
      version: VERSION,
      uptimeMs: Date.now() - this.started,
      state: this.host.degraded() ? "degraded" : "running",
      plugins: plugins.map((p) =>
        PluginStatus.create({ id: p.id, kind: KIND[p.kind], state: p.state, external: p.external, address: p.address, restarts: p.restarts, lastError: p.lastError }),
      ),
      interface: this.dataplane.ifname,
      xdpMode: this.dataplane.xdpMode,
      model,
      modelVersion: this.modelVersions.get(model)?.version ?? 0,
      configPath: this.opts.configPath ?? "",
    });
  }

  /** Manual block (control API). An allow-listed host is refused: the kernel would never drop it. */
  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedHost {
    const allowedBy = this.allowListed(addr);
    if (allowedBy) throw new RpcError(grpcStatus.FAILED_PRECONDITION, `address: ${addr.text} is on the allow list (${allowedBy}) and is never blocked; disallow it first`);
    return BlockedHost.create(this.dataplane.block(addr, ttlSeconds, reason));
  }

  unblock(addr: IpAddr): boolean {
    return this.dataplane.unblock(addr);
  }

  listBlocked(): BlockedHost[] {
    return this.dataplane.listBlocked().map((e) => BlockedHost.create(e));
  }

  /** Adds to the allow list and lifts every block inside it (correcting false positives). */
  allow(cidr: Cidr): string {
    this.dataplane.allow(cidr);
    for (const h of this.dataplane.listBlocked()) {
      const a = parseIp(h.address);
      if (a && cidrContains(cidr, a) && this.dataplane.unblock(a)) this.log.info(`allow ${cidr.cidr}: unblocked ${h.address}`);
    }
    return cidr.cidr;
  }

  disallow(cidr: Cidr): boolean {
    return this.dataplane.disallow(cidr);
  }

  modelTargets(): string[] {
    return this.host.ids("model");
  }

  async pushModel(artifactPath: string, target: string): Promise<PushModelResponse> {
    const id = target || this.config.pipeline.models[0];
    if (!id) throw new RpcError(grpcStatus.FAILED_PRECONDITION, "target: no model in pipeline.models and no target given");
    const api = this.host.api(id, "model");
    if (!api) throw new RpcError(grpcStatus.UNAVAILABLE, `target: model plugin "${id}" is not running`);
    if (!api.update) {
      throw new RpcError(grpcStatus.FAILED_PRECONDITION, `target: model plugin "${id}" cannot be updated live (an external plugin is updated by redeploying it)`);
    }
    let artifact;
    try {
      artifact = await this.services.artifacts.load(artifactPath);
    } catch (err) {
      throw new RpcError(grpcStatus.INVALID_ARGUMENT, `artifact_path: ${(err as Error).message}`);
    }
    let res: { model: string; version: number };
    try {
      res = await this.host.call(id, "model", "update", (a) => a.update!(artifact));
    } catch (err) {
      this.counters.modelUpdateFailures++;
      throw new RpcError(grpcStatus.FAILED_PRECONDITION, (err as Error).message);
    }
    this.counters.modelUpdates++;
    this.modelVersions.set(id, res);
    this.log.info(`model ${id} now runs ${res.model} (version ${res.version})`);
    return PushModelResponse.create({ target: id, model: res.model, version: res.version });
  }

  stats(): Stats {
    const pluginCounters: Record<string, number> = {};
    for (const p of this.host.status()) {
      pluginCounters[`${p.id}.calls`] = p.calls;
      pluginCounters[`${p.id}.errors`] = p.errors;
      pluginCounters[`${p.id}.restarts`] = p.restarts;
    }
    const c = this.counters;
    return Stats.create({
      dataplane: this.dataplane.stats(),
      flowsReceived: c.flowsReceived,
      flowsClassified: c.flowsClassified,
      detections: c.detections,
      classifyErrors: c.classifyErrors,
      responderErrors: c.responderErrors,
      watchClients: this.watch.size,
      watchLost: this.watch.lost,
      ringbufLost: this.dataplane.lostRecords(),
      plugins: pluginCounters,
      flowsDropped: c.flowsDropped,
      flowsUnclassified: c.flowsUnclassified,
      blocks: c.blocks,
    });
  }

  // ---- ObserveSource (metrics, live page) ----

  async metrics(): Promise<MetricsSnapshot> {
    // Responders report their delivery counters in Describe; a slow one is left out, not waited on.
    const responders: MetricsSnapshot["responders"] = {};
    await Promise.all(
      this.host.ids("responder").map(async (id) => {
        const api = this.host.api(id, "responder");
        if (!api) return;
        const info = await Promise.race([api.describe().catch(() => null), Bun.sleep(300).then(() => null)]);
        if (!info) return;
        const nums: Record<string, number> = {};
        for (const [k, v] of Object.entries(info.properties)) if (/^\d+$/.test(v)) nums[k] = Number(v);
        responders[id] = nums;
      }),
    );
    const c = this.counters;
    const dp = this.dataplane;
    return {
      version: VERSION,
      uptimeSeconds: (Date.now() - this.started) / 1000,
      interface: dp.ifname,
      xdpMode: dp.xdpMode,
      kernel: dp.stats(),
      core: {
        flowsReceived: c.flowsReceived,
        flowsClassified: c.flowsClassified,
        flowsDropped: c.flowsDropped,
        flowsUnclassified: c.flowsUnclassified,
        detections: c.detections,
        classifyErrors: c.classifyErrors,
        responderErrors: c.responderErrors,
        blocks: c.blocks,
        blocksSkippedAllowed: c.blocksSkippedAllowed,
        modelUpdates: c.modelUpdates,
        modelUpdateFailures: c.modelUpdateFailures,
        ringbufLost: dp.lostRecords(),
        watchClients: this.watch.size,
        watchLost: this.watch.lost,
      },
      blockedHosts: dp.listBlocked().length,
      allowedCidrs: dp.listAllowed().length,
      pinnedLinksReadopted: dp instanceof KernelDataPlane ? dp.readopted : 0,
      plugins: this.host.status().map((p) => ({ id: p.id, kind: p.kind, state: p.state, calls: p.calls, errors: p.errors, restarts: p.restarts })),
      models: this.host.ids("model").map((id) => ({ plugin: id, model: this.modelVersions.get(id)?.model ?? "", version: this.modelVersions.get(id)?.version ?? 0 })),
      responders,
    };
  }

  live(): Omit<LiveView, "rates" | "history"> {
    const k = this.dataplane.stats();
    const model = this.config.pipeline.models[0] ?? "";
    const mv = this.modelVersions.get(model);
    return {
      time: Date.now(),
      version: VERSION,
      uptimeMs: Date.now() - this.started,
      interface: this.dataplane.ifname,
      xdpMode: this.dataplane.xdpMode,
      model: mv ? `${model} (${mv.model})` : model,
      modelVersion: mv?.version ?? 0,
      totals: {
        pkts_seen: k.pkts_seen ?? 0,
        pkts_passed: k.pkts_passed ?? 0,
        pkts_dropped: k.pkts_dropped ?? 0,
        drop_blocked: k.drop_blocked ?? 0,
        flows_received: this.counters.flowsReceived,
        detections: this.counters.detections,
        blocks: this.counters.blocks,
      },
      blocked: this.dataplane.listBlocked(),
      recent: this.recent,
    };
  }

  /** Stops everything in reverse start order. Idempotent; never throws. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.lostTimer) clearInterval(this.lostTimer);
    const step = async (what: string, fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (err) {
        this.log.error(`stop ${what}: ${(err as Error).message}`);
      }
    };
    await step("http", () => this.http?.close());
    await step("control API", () => this.control?.close());
    for (const u of this.unsubs.splice(0)) await step("flow source", u);
    // Let the batch in flight finish before its plugins go away (bounded).
    await step("pipeline", () => Promise.race([this.whenIdle(), Bun.sleep(2_000)]));
    await step("plugins", () => this.host.stop());
    await step("data plane", () => this.dataplane.close());
    this.log.info("stopped");
  }
}
