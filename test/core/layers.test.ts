// The import direction of the code base, checked from the source text. Inside core/ every folder
// has a layer and imports only its own layer or lower ones (so core folders cannot form a cycle);
// nothing in core reaches plugins/, models/, bench/ or test/ except the composition root
// (core/main.ts). Plugin folders never import test or bench code, nor each other in a cycle.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { REPO } from "./util.ts";

/** core/ folders, lowest first. A new folder must be placed here. */
const CORE_LAYERS = ["util", "config", "ebpf", "plugin-api", "bus", "host", "observe", "pipeline", "control", "agent", "cli"];
const COMPOSITION_ROOT = "core/main.ts";
const OUTSIDE_CORE = ["client/", "plugins/", "models/", "bench/", "test/", "packaging/"];

const SPECIFIER = /(?:^|[^\w.])(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gms;

/** Repository-relative targets of a file's relative imports. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith(".")) out.push(normalize(join(dirname(file), spec)));
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(REPO, join(e.parentPath, e.name)));
}

const layerOf = (path: string): string | null => (path.startsWith("core/") && path.split("/").length > 2 ? path.split("/")[1]! : null);

/** Every import that breaks the core's rules, as "from -> to: why". */
export function coreViolations(files: Record<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [file, targets] of Object.entries(files)) {
    if (file === COMPOSITION_ROOT) continue;
    const from = layerOf(file);
    if (from === null) {
      bad.push(`${file}: a core file outside any layer folder`);
      continue;
    }
    const rank = CORE_LAYERS.indexOf(from);
    if (rank === -1) bad.push(`${file}: core/${from} has no place in CORE_LAYERS`);
    for (const t of targets) {
      if (OUTSIDE_CORE.some((p) => t.startsWith(p))) bad.push(`${file} -> ${t}: core imports outside the runtime (only ${COMPOSITION_ROOT} may)`);
      const to = layerOf(t);
      if (to !== null && CORE_LAYERS.indexOf(to) > rank) bad.push(`${file} -> ${t}: core/${from} may not import the higher layer core/${to}`);
    }
  }
  return bad;
}

/** Cycles among the given folders (a folder = its first `depth` path parts). */
export function folderCycles(files: Record<string, string[]>, depth: number): string[][] {
  const folder = (p: string) => p.split("/").slice(0, depth).join("/");
  const edges = new Map<string, Set<string>>();
  for (const [file, targets] of Object.entries(files)) {
    for (const t of targets) {
      const a = folder(file), b = folder(t);
      if (a !== b && files[t] !== undefined) (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
    }
  }
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const walk = (n: string, path: string[]) => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "open") {
      cycles.push([...path.slice(path.indexOf(n)), n]);
      return;
    }
    state.set(n, "open");
    for (const m of edges.get(n) ?? []) walk(m, [...path, n]);
    state.set(n, "done");
  };
  for (const n of edges.keys()) walk(n, []);
  return cycles;
}

function graph(dirs: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of dirs) for (const f of tsFiles(d)) out[f] = importsOf(f, readFileSync(join(REPO, f), "utf8"));
  return out;
}

describe("import direction", () => {
  test("the checks catch what they are meant to catch", () => {
    expect(importsOf("core/a/x.ts", `import { y } from "../b/y.ts";\nexport * from "./z.ts";\nconst m = await import("../../plugins/p.ts");`)).toEqual([
      "core/b/y.ts",
      "core/a/z.ts",
      "plugins/p.ts",
    ]);
    expect(coreViolations({ "core/util/log.ts": ["core/agent/agent.ts"], "core/agent/agent.ts": ["plugins/index.ts"], [COMPOSITION_ROOT]: ["plugins/index.ts"] })).toEqual([
      "core/util/log.ts -> core/agent/agent.ts: core/util may not import the higher layer core/agent",
      `core/agent/agent.ts -> plugins/index.ts: core imports outside the runtime (only ${COMPOSITION_ROOT} may)`,
    ]);
    expect(folderCycles({ "core/a/x.ts": ["core/b/y.ts"], "core/b/y.ts": ["core/a/x.ts"] }, 2)).toEqual([["core/a", "core/b", "core/a"]]);
  });

  test("core: every folder has a layer, imports go down only, nothing outside the runtime but the composition root", () => {
    const files = graph(["core"]);
    const folders = new Set(Object.keys(files).map(layerOf).filter((l) => l !== null));
    expect([...folders].filter((f) => !CORE_LAYERS.includes(f!))).toEqual([]);
    expect(coreViolations(files)).toEqual([]);
    expect(folderCycles(files, 2)).toEqual([]);
  });

  test("plugins: no imports of test or bench code, no cycles between plugin folders", () => {
    const files = graph(["plugins"]);
    const bad = Object.entries(files).flatMap(([f, ts]) => (f.endsWith(".test.ts") ? [] : ts.filter((t) => t.startsWith("test/") || t.startsWith("bench/")).map((t) => `${f} -> ${t}`)));
    expect(bad).toEqual([]);
    expect(folderCycles(files, 3)).toEqual([]);
  });

  test("models (the training library) do not import the core's runtime or the plugins", () => {
    const files = graph(["models"]);
    const bad = Object.entries(files).flatMap(([f, ts]) =>
      f.endsWith(".test.ts") || f.startsWith("models/commands/") ? [] : ts.filter((t) => t.startsWith("core/") || t.startsWith("plugins/")).map((t) => `${f} -> ${t}`),
    );
    expect(bad).toEqual([]);
  });
});

describe("README layout table", () => {
  test("lists every top-level folder and every core/ folder, and only folders that exist", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Layout"), readme.indexOf("\n## ", readme.indexOf("## Layout") + 1));
    const listed = [...table.matchAll(/^\| `([a-z0-9-]+\/(?:[a-z0-9-]+\/)?)` \|/gm)].map((m) => m[1]!);
    const dirs = (d: string) => readdirSync(join(REPO, d), { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules").map((e) => `${d}${e.name}/`);
    const expected = [...dirs(""), ...dirs("core/")].sort();
    expect([...listed].sort()).toEqual(expected);
    // The layer order the README states is the one this file enforces.
    expect(listed.filter((l) => l.startsWith("core/") && l !== "core/").map((l) => l.slice(5, -1))).toEqual(CORE_LAYERS);
  });
});

describe("core size", () => {
  test("core/ stays the runtime only: at most 5,000 lines of TypeScript (generated proto code lives in proto/gen)", () => {
    const lines = tsFiles("core").reduce((n, f) => n + readFileSync(join(REPO, f), "utf8").split("\n").length - 1, 0);
    expect(tsFiles("core").some((f) => f.includes("/gen/"))).toBe(false);
    expect(lines).toBeGreaterThan(1_000); // the count read real files
    expect(lines).toBeLessThanOrEqual(5_000);
  });
});
