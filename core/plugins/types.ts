// What a plugin is. A plugin is a factory returning a declarative registration: its name, kind,
// typed config schema, `init` (returns the live plugin: the bus API for its kind) and `stop`.
// Built-ins run in-process; external plugins are reached over gRPC through the same APIs
// (core/bus/remote.ts), so the core never knows which is which.
import type { FlowRecord, Classification, HealthResponse, PluginInfo } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Ack, Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { Schema } from "../config/schema.ts";
import type { CoreServices, ModelArtifact } from "../runtime/ports.ts";

export type { FlowRecord, Classification, HealthResponse, PluginInfo, Ack, Detection };
export type PluginKindName = "extractor" | "model" | "responder";

interface BaseApi {
  describe(): Promise<PluginInfo>;
  health(): Promise<HealthResponse>;
}

export interface ModelApi extends BaseApi {
  /** One Classification per record, in input order (flowId = record id). */
  classify(records: FlowRecord[]): Promise<Classification[]>;
  /** Hot update from a checked artifact (PushModel); absent = this model cannot be updated live. */
  update?(artifact: ModelArtifact): Promise<{ model: string; version: number }>;
}

export interface ResponderApi extends BaseApi {
  handle(detection: Detection): Promise<Ack>;
}

export interface ExtractorApi extends BaseApi {
  /** Starts delivering flow records to `sink` until the returned function is called. */
  stream(sink: (record: FlowRecord) => void, onError: (err: Error) => void): () => void;
}

export interface ApiByKind {
  extractor: ExtractorApi;
  model: ModelApi;
  responder: ResponderApi;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface PluginContext<C> {
  /** The instance id from the config file. */
  id: string;
  config: C;
  log: Logger;
  /** Core services a plugin may depend on (data plane, model updater). */
  services: CoreServices;
  /** Aborted when the core stops the plugin. */
  signal: AbortSignal;
}

export interface PluginRegistration<K extends PluginKindName = PluginKindName, C = unknown> {
  /** Built-in name used by `builtin:` in the config. */
  name: string;
  kind: K;
  description: string;
  config: Schema<C>;
  init(ctx: PluginContext<C>): Promise<ApiByKind[K]>;
  stop?(api: ApiByKind[K]): Promise<void>;
}

export type PluginFactory<K extends PluginKindName = PluginKindName, C = unknown> = () => PluginRegistration<K, C>;

/** Identity helper that keeps the config type of a registration. */
export function definePlugin<K extends PluginKindName, C>(reg: PluginRegistration<K, C>): PluginRegistration<K, C> {
  return reg;
}
