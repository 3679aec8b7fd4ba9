// The built-in plugins by the name the config's `builtin:` uses. The composition root builds it
// from plugins/index.ts; the host, the config checker and `xids plugins` read it.
import type { PluginFactory, PluginRegistration } from "../plugin-api/types.ts";

export interface Catalog {
  /** A fresh registration per lookup: a factory may keep per-instance state in its closure. */
  get(name: string): PluginRegistration | undefined;
  names(): string[];
}

export function catalogOf(factories: Record<string, PluginFactory>): Catalog {
  return {
    get: (name) => (Object.hasOwn(factories, name) ? factories[name]!() : undefined),
    names: () => Object.keys(factories),
  };
}
