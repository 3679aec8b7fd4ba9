// The core services a plugin can depend on. A plugin names the ones it needs in its registration
// (`deps: { dataplane: coreServices.dataplane }`) and receives exactly those in `ctx.deps`, typed;
// the host refuses to start a plugin that asks for a service this core does not provide.
import type { XidsConfig } from "../config/config.ts";
import type { DataPlanePort } from "../ebpf/port.ts";
import type { ExplainResponse, ShadowPromoteResponse, ShadowSummary } from "../../proto/gen/xids/control/v1/control.ts";
import type { Classification, FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";

export type { BlockedEntry, DataPlanePort, XdpMode } from "../ebpf/port.ts";

/** A named core service of type T. */
export interface ServiceRef<T> {
  readonly id: string;
  /** Carries the type only; never set. */
  readonly type?: T;
}

function serviceRef<T>(id: string): ServiceRef<T> {
  return { id };
}

/** A model artifact checked by the models code: enough for the core to route and report it. */
export interface ModelArtifact {
  dir: string;
  name: string;
  kind: string;
  /** How many features the model reads. */
  features: number;
  /** The models code's own loaded representation, passed through untouched. */
  loaded: unknown;
}

export interface ArtifactLoader {
  /** Throws with the reason if the directory is not a valid artifact. */
  load(dir: string): Promise<ModelArtifact>;
}

/** The model in use (the first of pipeline.models, or plugin `plugin`: what it runs, its artifact folder), and PushModel's checked hot swap into it (throws with the reason). */
export interface ModelInUse {
  current(plugin?: string): { target: string; model: string; version: number; artifact?: string };
  push(dir: string): Promise<{ target: string; model: string; version: number }>;
}

/** `xids model shadow`: a candidate judged in user space beside the pipeline's verdicts, acting on
 *  nothing (plugins/models/shadow). A refused call throws RpcError (core/bus/grpc.ts) with the reason. */
export interface Shadow {
  start(dir: string): Promise<ShadowSummary>;
  /** One flow and the verdict the pipeline gave it; never blocks nor throws. */
  observe(record: FlowRecord, verdict: Classification, model: string): void;
  report(maxFlows: number): Promise<ShadowSummary>;
  stop(): Promise<ShadowSummary>;
  promote(expectedDir: string): Promise<ShadowPromoteResponse>;
  close(): void;
}

export type ShadowFactory = (deps: { block: BlockSettings; model: ModelInUse }) => Shadow;

/** The live page's "why blocked": an Explain answer joined with the model's explanation. */
export type Explainer = (res: ExplainResponse) => Promise<unknown>;

/** The block settings (pipeline.block): TTL, reason and the in-kernel policy. */
export type BlockSettings = XidsConfig["pipeline"]["block"];

/** A value read when /metrics is scraped. */
export interface MetricSample {
  value: number;
  labels?: Record<string, string>;
}

/**
 * Metrics a plugin registers. Every series it creates carries `plugin="<its id>"`; the name must
 * start with `xids_`. The same name from two instances of one plugin is one family.
 */
export interface PluginMetrics {
  /** A counter the plugin increments (the series exists, at 0, from this call on). */
  counter(name: string, help: string): { inc(by?: number): void };
  /** A value read when /metrics is scraped: a gauge, or a running total the plugin keeps. */
  read(name: string, help: string, type: "counter" | "gauge", read: () => number): void;
}

export const coreServices = {
  /** Block/allow lists, kernel counters, and the loaded XDP object when one is attached. */
  dataplane: serviceRef<DataPlanePort>("dataplane"),
  /** Checks model artifact folders (manifest and parameters). */
  artifacts: serviceRef<ArtifactLoader>("artifacts"),
  /** The plugin's own metrics, exposed on /metrics. */
  metrics: serviceRef<PluginMetrics>("metrics"),
  /** The model in use, and PushModel's checked hot swap. */
  model: serviceRef<ModelInUse>("model"),
  /** pipeline.block. */
  blockSettings: serviceRef<BlockSettings>("block-settings"),
} as const;
