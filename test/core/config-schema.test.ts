// The configuration's JSON Schema: the committed file is what `xids config schema` prints, and an
// independent validator (Ajv, draft 2020-12) agrees with the config checker on good and bad files.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { parse } from "yaml";
import { configJsonSchema } from "../../core/config/json-schema.ts";
import { parseConfigText } from "../../core/config/load.ts";
import { builtinCatalog } from "../../plugins/index.ts";
import { REPO } from "./util.ts";

const schema = configJsonSchema(builtinCatalog);
const ajv = new Ajv2020({ allErrors: true, strict: false });
const check = ajv.compile(schema);

describe("config JSON Schema", () => {
  test("core/config/xids.schema.json is up to date (regenerate: bun run xids config schema > core/config/xids.schema.json)", () => {
    expect(JSON.parse(readFileSync(join(REPO, "core/config/xids.schema.json"), "utf8"))).toEqual(schema);
  });

  test("the example configuration and the empty file are valid under it", () => {
    const example = readFileSync(join(REPO, "core/config/xids.example.yaml"), "utf8");
    expect(parseConfigText(example, builtinCatalog).ok).toBe(true);
    expect(check(parse(example)), JSON.stringify(check.errors)).toBe(true);
    expect(check({})).toBe(true);
  });

  test("what the checker refuses, the schema refuses too", () => {
    const bad = [
      { dataplane: { idle_timeout_ms: 0 } },
      { dataplane: { xdp_mode: "turbo" } },
      { pipeline: { block: { reason: 16 } } },
      { colour: "blue" },
      { plugins: [{ id: "Bad Id", kind: "model", builtin: "kernel" }] },
      { plugins: [{ id: "hook", kind: "responder", builtin: "webhook", config: { url: "http://x", retries: 99 } }] },
      { plugins: [{ id: "hook", kind: "model", builtin: "webhook", config: { url: "http://x" } }] },
    ];
    for (const raw of bad) {
      expect(parseConfigText(JSON.stringify(raw), builtinCatalog).ok, JSON.stringify(raw)).toBe(false);
      expect(check(raw), JSON.stringify(raw)).toBe(false);
    }
  });
});
