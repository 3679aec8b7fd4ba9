// What a plugin is. A plugin is a factory returning a declarative registration: its name, kind,
// typed config schema, the core services it depends on, `init` (returns the live plugin: the bus
// API of its kind) and `stop`. Built-ins run in-process; external plugins are reached over gRPC
// through the same APIs (core/bus/remote.ts), so the core never knows which is which.
import type { FlowRecord, Classification, HealthResponse, PluginInfo } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Ack, Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { Schema } from "../config/schema.ts";
import type { PluginKindName } from "../config/plugin-kinds.ts";
import type { Logger } from "../util/log.ts";
import type { ModelArtifact, ServiceRef } from "./services.ts";

export type { FlowRecord, Classification, HealthResponse, PluginInfo, Ack, Detection, Logger, PluginKindName };

interface BaseApi {
  describe(): Promise<PluginInfo>;
  health(): Promise<HealthResponse>;
  /** An external plugin's `config:`, once before any other call (a built-in's comes to `init`); throws to refuse it. */
  configure?(pluginId: string, config: unknown): Promise<void>;
  /** Reload (SIGHUP): reopen the files it writes, so a log rotated by renaming is written anew. */
  reopen?(): Promise<void>;
}

export interface ModelApi extends BaseApi {
  /** One Classification per record, in input order (flowId = record id). */
  classify(records: FlowRecord[]): Promise<Classification[]>;
  /** Hot update from a checked artifact (PushModel); absent = this model cannot be updated live. */
  update?(artifact: ModelArtifact): Promise<{ model: string; version: number }>;
}

export interface ResponderApi extends BaseApi {
  /** Acknowledges one detection. An inline responder's Ack says what it did (`action`). */
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

/** The services a plugin asks for, by the name it uses for them. */
export type Deps = Record<string, ServiceRef<unknown>>;
export type ResolvedDeps<D extends Deps> = { [K in keyof D]: D[K] extends ServiceRef<infer T> ? T : never };

export interface PluginContext<C, D extends Deps = Deps> {
  /** The instance id from the config file. */
  id: string;
  config: C;
  log: Logger;
  /** The core services named in the registration's `deps`. */
  deps: ResolvedDeps<D>;
  /** Aborted when the core stops the plugin. */
  signal: AbortSignal;
}

export interface PluginRegistration<K extends PluginKindName = PluginKindName, C = unknown, D extends Deps = Deps> {
  /** Built-in name used by `builtin:` in the config. */
  name: string;
  kind: K;
  description: string;
  config: Schema<C>;
  /** Core services this plugin needs (coreServices.*). */
  deps?: D;
  /**
   * Responders only: runs in line, before the detection goes to any other responder, and its Ack
   * (`action`, `block_ttl_seconds`, `message`) becomes part of the detection they receive. The
   * XDP-drop responder is one: no other responder can delay a block, and every responder reports
   * what was really done.
   */
  inline?: boolean;
  init(ctx: PluginContext<C, D>): Promise<ApiByKind[K]>;
  stop?(api: ApiByKind[K]): Promise<void>;
}

export type PluginFactory<K extends PluginKindName = PluginKindName, C = unknown, D extends Deps = Deps> = () => PluginRegistration<K, C, D>;

/** Identity helper that keeps the config and dependency types of a registration. */
export function definePlugin<K extends PluginKindName, C, D extends Deps = Record<never, never>>(reg: PluginRegistration<K, C, D>): PluginRegistration<K, C, D> {
  return reg;
}
