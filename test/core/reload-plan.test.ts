// What a reload does with each difference between the running config and the re-read one: the
// allow list is diffed by canonical CIDR, pipeline.block and changed in-process responders and
// model artifacts apply live, and every other changed setting is named by its path.
import { describe, expect, test } from "bun:test";
import { changedPaths, planReload } from "../../core/agent/reload.ts";
import { checkConfig } from "../../core/config/load.ts";
import type { XidsConfig } from "../../core/config/config.ts";

const PLUGINS = [
  { id: "xdp", kind: "extractor", builtin: "xdp" },
  { id: "tree", kind: "model", builtin: "kernel", config: { artifact: "/models/a" } },
  { id: "alerts", kind: "responder", builtin: "alert-log", config: { path: "/var/log/a.jsonl" } },
  { id: "hook", kind: "responder", external: { address: "unix:/run/hook.sock" } },
];

function config(over: Record<string, unknown> = {}, plugins: unknown[] = PLUGINS): XidsConfig {
  const r = checkConfig({ allow: ["198.18.0.0/24", "2001:2::/48"], plugins: structuredClone(plugins), ...over });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const edit = (id: string, fn: (p: Record<string, any>) => void) =>
  PLUGINS.map((p) => {
    const c = structuredClone(p) as Record<string, any>;
    if (c.id === id) fn(c);
    return c;
  });

describe("reload plan", () => {
  test("the same config: nothing to do", () => {
    expect(planReload(config(), config())).toEqual({ allowAdd: [], allowRemove: [], block: [], responders: [], models: [], needsRestart: [] });
  });

  test("allow list: compared in canonical form, new and gone CIDRs", () => {
    const p = planReload(config(), config({ allow: ["198.18.0.9/24", "2001:2:0:0::/48", "198.18.1.0/24"] }));
    expect([p.allowAdd, p.allowRemove, p.needsRestart]).toEqual([["198.18.1.0/24"], [], []]);
    expect(planReload(config(), config({ allow: [] })).allowRemove).toEqual(["198.18.0.0/24", "2001:2::/48"]);
  });

  test("pipeline.block applies live; every other changed setting is named by its path", () => {
    const p = planReload(
      config(),
      config({
        pipeline: { block: { ttl_seconds: 600, min_attacks: 5 }, responders: ["alerts"] },
        dataplane: { interfaces: ["eth1"], idle_timeout_ms: 500 },
        control: { socket: "/run/other.sock" },
        http: { listen: "127.0.0.1:9464" },
        watch: { queue_size: 10 },
        log: { level: "debug" },
      }),
    );
    expect(p.block.sort()).toEqual(["pipeline.block.min_attacks", "pipeline.block.ttl_seconds"]);
    expect(p.needsRestart.sort()).toEqual(
      ["control.socket", "dataplane.idle_timeout_ms", "dataplane.interfaces", "http.listen", "log.level", "pipeline.responders", "watch.queue_size"].sort(),
    );
  });

  test("plugins: an in-process responder restarts, a model artifact is pushed, the rest needs a restart", () => {
    const responder = planReload(config(), config({}, edit("alerts", (p) => (p.config.path = "/var/log/b.jsonl"))));
    expect([responder.responders.map((e) => [e.id, (e.config as { path: string }).path]), responder.needsRestart]).toEqual([[["alerts", "/var/log/b.jsonl"]], []]);
    const model = planReload(config(), config({}, edit("tree", (p) => (p.config.artifact = "/models/b"))));
    expect([model.models, model.needsRestart]).toEqual([[{ id: "tree", artifact: "/models/b" }], []]);
    // Anything else about a model, an external responder, an extractor, plugins added or removed.
    const other = planReload(
      config(),
      config({}, [
        ...edit("tree", (p) => ((p.config.artifact = "/models/b"), (p.timeout_ms = 50))).filter((p) => p.id !== "xdp").map((p) => (p.id === "hook" ? { ...p, external: { address: "unix:/run/hook2.sock" } } : p)),
        { id: "pcap", kind: "extractor", builtin: "pcap" },
      ]),
    );
    expect([other.responders, other.models]).toEqual([[], []]);
    expect(other.needsRestart.sort()).toEqual(["plugins.hook.external.address", "plugins.pcap (added)", "plugins.tree.config.artifact", "plugins.tree.timeout_ms", "plugins.xdp (removed)"]);
    // A model whose artifact goes away cannot be pushed "nothing".
    expect(planReload(config(), config({}, edit("tree", (p) => (p.config.artifact = "")))).needsRestart).toEqual(["plugins.tree.config.artifact"]);
    // A responder switched off or on changes the pipeline: a restart.
    expect(planReload(config(), config({ pipeline: { responders: ["hook"] } }, edit("alerts", (p) => (p.enabled = false)))).needsRestart.sort()).toEqual(["pipeline.responders", "plugins.alerts.enabled"]);
  });

  test("changedPaths compares objects key by key and anything else whole", () => {
    expect(changedPaths({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { b: 2, c: [1, 2, 3] }, e: 1 }, "x").sort()).toEqual(["x.a.b", "x.a.c", "x.d", "x.e"]);
    expect(changedPaths([1], [1], "x")).toEqual([]);
  });
});
