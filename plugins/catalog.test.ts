// The catalog is the one list of built-ins: each name the config accepts has its folder with a
// README (config keys, example, metrics) and tests, and `xids plugins` lists exactly these.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTINS, BUILTIN_FOLDERS, builtinCatalog } from "./index.ts";
import { REPO, xids } from "../test/core/util.ts";

describe("plugin catalog", () => {
  test("every built-in is a folder with a README naming it, its config and metrics, and tests", () => {
    expect(Object.keys(BUILTIN_FOLDERS).sort()).toEqual(Object.keys(BUILTINS).sort());
    for (const [name, folder] of Object.entries(BUILTIN_FOLDERS)) {
      const readme = join(REPO, folder, "README.md");
      expect(existsSync(readme), readme).toBe(true);
      const text = readFileSync(readme, "utf8");
      expect(text.startsWith(`# \`${name}\``), `${readme} starts with its name`).toBe(true);
      for (const section of ["## Config", "## Metrics", "## Tests"]) expect(text, `${readme}: ${section}`).toContain(section);
      expect(readdirSync(join(REPO, folder)).some((f) => f.endsWith(".test.ts")), `${folder} has tests`).toBe(true);
      const reg = builtinCatalog.get(name)!;
      // Under its kind's folder, or at plugins/<name> when it is a part of the system of its own
      // (the fleet: a responder by contract, but it also mirrors lists and rolls out models).
      expect(reg.name).toBe(name);
      expect(folder === `plugins/${name}` || folder.split("/")[1] === `${reg.kind}s`, `${folder} is plugins/${reg.kind}s/${name} or plugins/${name}`).toBe(true);
    }
  });

  test("xids plugins lists the catalog", async () => {
    const r = await xids(["plugins", "--json"]);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split("\n").map((l) => JSON.parse(l) as { name: string; kind: string; inline: boolean });
    expect(rows.map((x) => [x.name, x.kind, x.inline])).toEqual(builtinCatalog.names().map((n) => [n, builtinCatalog.get(n)!.kind, builtinCatalog.get(n)!.inline === true]));
  });
});
