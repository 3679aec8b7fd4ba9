// The built-in plugins by the name the config's `builtin:` uses. The composition root builds it
// from plugins/index.ts; the host, the config checker and `xids plugins` read it.
import { resolve } from "node:path";
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

/** A plugin module's default export (or `plugin`): a factory or a registration; `spec` is a path (relative: to `base`) or a package. */
export async function importPlugin(spec: string, base: string): Promise<PluginRegistration> {
  const mod = await import(spec.startsWith(".") || spec.startsWith("/") ? resolve(base, spec) : spec);
  const exported = mod.default ?? mod.plugin;
  const reg = typeof exported === "function" ? exported() : exported;
  if (typeof reg?.init !== "function") throw new Error(`module "${spec}" exports no plugin (a default export that is a factory from definePlugin)`);
  return reg as PluginRegistration;
}
