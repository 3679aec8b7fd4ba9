// The control API's view of a running agent: status, manual block/unblock/allow, model pushes and
// counters. Requests arrive validated (core/control/validate.ts); the rules live here: an
// allow-listed host is never blocked, allowing a CIDR lifts every block inside it, and a pushed
// artifact is checked before the model plugin sees it.
import { status as grpcStatus } from "@grpc/grpc-js";
import { BlockedHost, ExplainResponse, PluginStatus, PushModelResponse, Stats, StatusResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { RpcError } from "../bus/grpc.ts";
import type { XidsConfig } from "../config/config.ts";
import { kindEnum } from "../config/plugin-kinds.ts";
import type { ControlBackend } from "../control/server.ts";
import type { WatchHub } from "../control/watch.ts";
import type { DataPlanePort } from "../ebpf/port.ts";
import type { PluginHost } from "../host/host.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { ArtifactLoader, Shadow } from "../plugin-api/services.ts";
import type { ScopedLogger } from "../util/log.ts";
import { cidrContains, neverBlockReason, parseIp, type Cidr, type IpAddr } from "../util/net.ts";
import { VERSION } from "../util/version.ts";
import type { EvidenceBuffer } from "./evidence.ts";
import type { ModelVersions } from "./model-versions.ts";

export interface BackendParts {
  config: XidsConfig;
  configPath: string;
  startedAtMs: number;
  dataplane: DataPlanePort;
  host: PluginHost;
  pipeline: Pipeline;
  watch: WatchHub;
  models: ModelVersions;
  artifacts: ArtifactLoader | null;
  evidence: EvidenceBuffer;
  shadow: Shadow | null;
  log: ScopedLogger;
}

/** Everything but Reload and the block list's pages, which the agent adds (it owns the config file and the snapshot). */
export function controlBackend(p: BackendParts): Omit<ControlBackend, "reload" | "blockPages"> {
  const { config, dataplane, host, models, log } = p;
  return {
    watch: p.watch,
    shadow: p.shadow,

    status(): StatusResponse {
      const model = config.pipeline.models[0] ?? "";
      return StatusResponse.create({
        version: VERSION,
        uptimeMs: Date.now() - p.startedAtMs,
        state: host.degraded() ? "degraded" : "running",
        plugins: host.status().map((s) =>
          PluginStatus.create({ id: s.id, kind: kindEnum(s.kind), state: s.state, external: s.external, address: s.address, restarts: s.restarts, lastError: s.lastError }),
        ),
        interface: dataplane.ifname,
        xdpMode: dataplane.xdpMode,
        model,
        modelVersion: models.get(model)?.version ?? 0,
        configPath: p.configPath,
      });
    },

    block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedHost {
      const never = neverBlockReason(addr) ?? (dataplane.isLocal(addr) ? "an address of this host" : null);
      if (never) throw new RpcError(grpcStatus.FAILED_PRECONDITION, `address: ${addr.text} is ${never} and is never blocked`);
      const allowedBy = dataplane.allowListed(addr);
      if (allowedBy) throw new RpcError(grpcStatus.FAILED_PRECONDITION, `address: ${addr.text} is on the allow list (${allowedBy}) and is never blocked; disallow it first`);
      return BlockedHost.create(dataplane.block(addr, ttlSeconds, reason));
    },

    unblock: (addr) => dataplane.unblock(addr),

    /** Adds to the allow list and lifts every block inside it (correcting false positives). */
    allow(cidr: Cidr): { cidr: string; unblocked: number } {
      // Listed first: the kernel data plane lifts them itself as the CIDR goes in.
      const inside = dataplane.listBlocked().filter((h) => cidrContains(cidr, parseIp(h.address)!));
      dataplane.allow(cidr);
      for (const h of inside) {
        dataplane.unblock(parseIp(h.address)!);
        log.info(`allow ${cidr.cidr}: unblocked ${h.address}`);
      }
      if (inside.length > 0) log.warn(`allow ${cidr.cidr} lifted ${inside.length} block(s)`);
      return { cidr: cidr.cidr, unblocked: inside.length };
    },

    disallow: (cidr) => dataplane.disallow(cidr),
    modelTargets: () => host.ids("model"),

    async pushModel(artifactPath: string, target: string): Promise<PushModelResponse> {
      const id = target || config.pipeline.models[0];
      if (!id) throw new RpcError(grpcStatus.FAILED_PRECONDITION, "target: no model in pipeline.models and no target given");
      const api = host.api(id, "model");
      if (!api) throw new RpcError(grpcStatus.UNAVAILABLE, `target: model plugin "${id}" is not running`);
      if (!api.update) throw new RpcError(grpcStatus.FAILED_PRECONDITION, `target: model plugin "${id}" cannot be updated live`);
      if (!p.artifacts) throw new RpcError(grpcStatus.FAILED_PRECONDITION, "artifact_path: this core was started without an artifact loader");
      let artifact;
      try {
        artifact = await p.artifacts.load(artifactPath);
      } catch (err) {
        throw new RpcError(grpcStatus.INVALID_ARGUMENT, `artifact_path: ${(err as Error).message}`);
      }
      let res: { model: string; version: number };
      try {
        // An external plugin answers over the bus (ModelBackend.Update); one that cannot says why.
        res = await host.call(id, "model", "update", (a) => a.update!(artifact));
      } catch (err) {
        models.updates.failed++;
        throw new RpcError(grpcStatus.FAILED_PRECONDITION, (err as Error).message);
      }
      models.updates.ok++;
      models.set(id, res.model, res.version, artifact.dir);
      log.info(`model ${id} now runs ${res.model} (version ${res.version})`);
      return PushModelResponse.create({ target: id, model: res.model, version: res.version });
    },

    /** The facts behind a block; the client explains the scores with the model's artifact. */
    async explain(addr: IpAddr): Promise<ExplainResponse> {
      const { block: b } = config.pipeline;
      const entry = dataplane.listBlocked().find((h) => h.address === addr.text);
      const target = config.pipeline.models[0] ?? "";
      // The model plugin names its artifact in Describe; one that cannot answer leaves it unknown.
      const info = target ? await host.call(target, "model", "describe", (a) => a.describe()).catch(() => null) : null;
      const kept = p.evidence.of(addr.text);
      return ExplainResponse.create({
        address: addr.text,
        block: entry ? BlockedHost.create(entry) : undefined,
        // pipeline.block.reason is the automatic blocks' code; `xids block` sets the others.
        blockReason: !entry ? "" : entry.reason === b.reason ? `detection (pipeline.block.reason ${b.reason})` : `manual (xids block --reason ${entry.reason})`,
        policy: { enabled: b.enabled, minAttacks: b.min_attacks, minAttackPct: b.min_attack_pct, windowSeconds: b.window_seconds, ttlSeconds: b.ttl_seconds, reason: b.reason },
        flows: kept.latest,
        decisionFlows: kept.decision,
        flowsKept: p.evidence.perSource,
        modelTarget: target,
        model: models.get(target)?.model ?? "",
        modelVersion: models.get(target)?.version ?? 0,
        modelArtifact: info?.properties.artifact ?? "",
      });
    },

    stats(): Stats {
      const pluginCounters: Record<string, number> = {};
      for (const s of host.status()) {
        pluginCounters[`${s.id}.calls`] = s.calls;
        pluginCounters[`${s.id}.errors`] = s.errors;
        pluginCounters[`${s.id}.restarts`] = s.restarts;
      }
      const c = p.pipeline.counters, d = p.pipeline.detections.counts;
      return Stats.create({
        dataplane: dataplane.stats(),
        flowsReceived: c.flowsReceived,
        flowsClassified: c.flowsClassified,
        detections: d.detections,
        classifyErrors: c.classifyErrors,
        responderErrors: d.responderErrors,
        watchClients: p.watch.size,
        watchLost: p.watch.lost,
        ringbufLost: dataplane.lostRecords(),
        plugins: pluginCounters,
        flowsDropped: c.flowsDropped,
        flowsUnclassified: c.flowsUnclassified,
        blocks: d.byAction.get("blocked") ?? 0,
      });
    },
  };
}
