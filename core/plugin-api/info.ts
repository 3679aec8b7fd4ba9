// Helpers every TypeScript plugin uses to answer Describe and Health.
import { HealthResponse, HealthResponse_Status, PluginInfo } from "../../proto/gen/xids/plugin/v1/common.ts";
import { kindEnum, type PluginKindName } from "../config/plugin-kinds.ts";

export const PLUGIN_API = "xids.plugin.v1";

export function pluginInfo(id: string, kind: PluginKindName, version: string, description: string, properties: Record<string, string> = {}): PluginInfo {
  return PluginInfo.create({ id, kind: kindEnum(kind), version, description, api: PLUGIN_API, properties });
}

export function serving(message = ""): HealthResponse {
  return HealthResponse.create({ status: HealthResponse_Status.STATUS_SERVING, message });
}

export function notServing(message: string): HealthResponse {
  return HealthResponse.create({ status: HealthResponse_Status.STATUS_NOT_SERVING, message });
}
