// The plugin SDK: what a plugin written outside this repository imports, as `from "xids"`
// (package.json "exports"), instead of reaching into repo paths. Everything here is re-exported
// from where the core defines it, so the SDK and the core cannot disagree.
export { definePlugin } from "../core/plugin-api/types.ts";
export type {
  PluginRegistration, PluginContext, PluginFactory, ModelApi, ResponderApi, ExtractorApi, ApiByKind,
  FlowRecord, Classification, HealthResponse, PluginInfo, Ack, Detection, Logger, PluginKindName,
} from "../core/plugin-api/types.ts";
export { PLUGIN_API, pluginInfo, serving, notServing } from "../core/plugin-api/info.ts";
export { coreServices, type ModelArtifact, type ArtifactLoader, type PluginMetrics, type BlockSettings, type DataPlanePort } from "../core/plugin-api/services.ts";
export { s, type Schema, type Infer } from "../core/config/schema.ts";
export { servePlugin, type PluginServer } from "../core/bus/serve.ts";
export { Classification as ClassificationMsg, Verdict } from "../proto/gen/xids/plugin/v1/common.ts";
export { Ack as AckMsg } from "../proto/gen/xids/plugin/v1/responder.ts";
