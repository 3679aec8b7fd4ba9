// The configuration as a JSON Schema (draft 2020-12), for editors (YAML language servers read it
// from a `# yaml-language-server: $schema=...` line) and other tools. Built from the same schema
// the checker uses; each built-in's `config:` is described by that plugin's own schema.
import { configSchema } from "./config.ts";
import type { BuiltinCatalog } from "./load.ts";
import type { JsonSchema } from "./schema.ts";

export function configJsonSchema(catalog: BuiltinCatalog): JsonSchema {
  const root = structuredClone(configSchema.json) as { properties: { plugins: { items: JsonSchema }; fleet: JsonSchema } };
  root.properties.fleet = catalog.get("fleet")?.config.json ?? root.properties.fleet; // `fleet:` is that plugin's config (load.ts)
  const entry = root.properties.plugins.items;
  entry.allOf = catalog.names().map((name) => {
    const reg = catalog.get(name)!;
    return {
      if: { properties: { builtin: { const: name } }, required: ["builtin"] },
      then: { properties: { kind: { const: reg.kind }, config: { ...reg.config.json, ...(reg.description ? { description: reg.description } : {}) } } },
    };
  });
  return { $schema: "https://json-schema.org/draft/2020-12/schema", title: "xids configuration (version 1)", ...root };
}
