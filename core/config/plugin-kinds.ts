// The three plugin kinds, once: their names (config, logs) and the bus's enum values.
import { PluginKind } from "../../proto/gen/xids/plugin/v1/common.ts";

export const PLUGIN_KINDS = ["extractor", "model", "responder"] as const;
export type PluginKindName = (typeof PLUGIN_KINDS)[number];

const ENUM: Record<PluginKindName, PluginKind> = {
  extractor: PluginKind.PLUGIN_KIND_EXTRACTOR,
  model: PluginKind.PLUGIN_KIND_MODEL,
  responder: PluginKind.PLUGIN_KIND_RESPONDER,
};

export function kindEnum(kind: PluginKindName): PluginKind {
  return ENUM[kind];
}

/** The name of a bus enum value; "unknown(<n>)" for a value this core does not know. */
export function kindName(kind: PluginKind): string {
  return PLUGIN_KINDS.find((k) => ENUM[k] === kind) ?? `unknown(${kind})`;
}
