// The built-in plugins, by the name the config's `builtin:` uses. Adding one = one line here.
import { artifactModel } from "../../plugins/models/artifact/index.ts";
import { kernelModel } from "../../plugins/models/kernel/index.ts";
import { alertLog } from "../../plugins/responders/alert-log/index.ts";
import { webhookResponder } from "../../plugins/responders/webhook/index.ts";
import type { Catalog } from "./host.ts";
import type { PluginFactory, PluginRegistration } from "./types.ts";

const FACTORIES: Record<string, PluginFactory<never, never>> = {
  kernel: kernelModel as unknown as PluginFactory<never, never>,
  artifact: artifactModel as unknown as PluginFactory<never, never>,
  "alert-log": alertLog as unknown as PluginFactory<never, never>,
  webhook: webhookResponder as unknown as PluginFactory<never, never>,
};

/** A fresh registration per lookup: a factory may keep per-instance state in its closure. */
export const builtinCatalog: Catalog = {
  get: (name) => (FACTORIES[name] ? (FACTORIES[name]() as unknown as PluginRegistration) : undefined),
  names: () => Object.keys(FACTORIES),
};
