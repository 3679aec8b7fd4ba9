// What the core refuses from plugins over the real gRPC bus: a model answer with the wrong count,
// the wrong ids, an unknown verdict or a score that is not a number, and extractor records that
// are not flows. Each is refused (never guessed into a verdict or a detection), counted against
// the plugin (status and xids_plugin_errors_total) and logged at warn with the plugin and reason.
import { describe, expect, test } from "bun:test";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig, loadConfigFile } from "../../core/config/load.ts";
import { servePlugin, type PluginServer } from "../../core/bus/serve.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import type { FlowRecord } from "../../core/plugin-api/types.ts";
import { pluginInfo, serving } from "../../core/plugin-api/info.ts";
import { createLogger } from "../../core/util/log.ts";
import { quietLog } from "./util.ts";
import { builtins } from "../../plugins/index.ts";
import { Classification, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Ack, type Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { sampleRecords } from "../conformance/conformance.ts";
import { BUN, REPO, TempDir, startBuiltin, waitFor } from "./util.ts";
import { connectControl } from "../../client/control.ts";
import { artifactModel } from "../../plugins/models/artifact/index.ts";
import { join } from "node:path";
import { writeFileSync } from "node:fs";

type Answer = (records: FlowRecord[]) => Classification[];

const attack = (r: FlowRecord) => Classification.create({ flowId: r.id, verdict: Verdict.VERDICT_ATTACK, score: 0.9, label: "x" });
const ANSWERS: Record<string, Answer> = {
  short: (rs) => rs.slice(1).map(attack),
  "wrong ids": (rs) => rs.map((r) => ({ ...attack(r), flowId: r.id + 1000 })),
  "verdict 7": (rs) => rs.map((r) => ({ ...attack(r), verdict: 7 as Verdict })),
  "NaN score": (rs) => rs.map((r) => ({ ...attack(r), score: Number.NaN })),
};
const REASONS: Record<string, RegExp> = {
  short: /answer refused: answered \d+ results for \d+ records/,
  "wrong ids": /answer refused: result 0 is for flow \d+, expected \d+ \(answers must be in input order\)/,
  "verdict 7": /answer refused: result 0 has verdict 7, not one of the contract's \(NONE, BENIGN, ATTACK\)/,
  "NaN score": /answer refused: result 0 has score NaN \(scores are finite numbers\)/,
};

async function agentWith(dir: TempDir, plugins: object[], lines: string[]): Promise<Agent> {
  const r = checkConfig({ control: { socket: dir.file("ctl.sock") }, dataplane: { state_dir: dir.path }, plugins, pipeline: { batch_wait_ms: 1 } });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return Agent.start(r.config, { ...builtins, dataplane: new MemoryDataPlane(), log: createLogger("xids", "info", (l) => lines.push(l)) });
}

describe("PushModel reaches external model plugins (ModelBackend.Update)", () => {
  test("an updatable external plugin swaps its model and the core reports its answer; one that cannot says so, and keeps running", async () => {
    using dir = new TempDir();
    const model = await startBuiltin(artifactModel(), { artifact: join(REPO, "models/artifacts/mlp-int32") }, "ts");
    const srv = await servePlugin(`unix:${dir.file("ts.sock")}`, { model, artifacts: builtins.artifacts });
    const rule = join(REPO, "plugins/models/example-external/main.ts");
    const lines: string[] = [];
    const agent = await agentWith(dir, [
      { id: "ts", kind: "model", external: { address: srv.address } },
      { id: "rule", kind: "model", external: { address: `unix:${dir.file("rule.sock")}`, command: [BUN, rule, "--listen", `unix:${dir.file("rule.sock")}`] } },
    ], lines);
    const c = connectControl({ socket: dir.file("ctl.sock"), timeoutMs: 5_000 });
    try {
      expect(await c.pushModel(join(REPO, "models/artifacts/dt"), "ts")).toMatchObject({ target: "ts", model: "dt:dt" });
      const [res] = await model.classify(sampleRecords(1).slice(0, 1));
      expect(res!.model).toMatch(/^dt/); // the plugin runs the pushed tree now
      const refused = await c.pushModel(join(REPO, "models/artifacts/dt"), "rule").then(() => "pushed", (e: Error) => e.message);
      expect(refused).toContain(`FAILED_PRECONDITION: plugin "rule" update: cannot be updated live: a rule model: restart it with other flags`);
      expect(agent.host.status().find((p) => p.id === "rule")!.state).toBe("running");
      const bad = await c.pushModel(join(REPO, "models"), "ts").then(() => "pushed", (e: Error) => e.message);
      expect(bad).toContain("INVALID_ARGUMENT: artifact_path: ");
    } finally {
      c.close();
      await agent.stop();
      await srv.close();
    }
  });
});

describe("configuration for external plugins (Configure)", () => {
  test("an external plugin receives its entry's config; a config it refuses fails its start with its reason", async () => {
    using dir = new TempDir();
    const rule = join(REPO, "plugins/models/example-external/main.ts");
    const entry = (config: object) => ({ id: "rule", kind: "model", on_start_failure: "abort", config, external: { address: `unix:${dir.file("rule.sock")}`, command: [BUN, rule, "--listen", `unix:${dir.file("rule.sock")}`] } });
    const lines: string[] = [];
    const agent = await agentWith(dir, [entry({ attack_ports: [5555] }), { id: "log", kind: "responder", builtin: "alert-log", config: { path: dir.file("alerts") } }], lines);
    try {
      expect((await agent.host.api("rule", "model")!.describe()).properties.attack_ports).toBe("5555"); // not the flag's 4444,31337
      agent.ingest({ ...sampleRecords(1)[0]!, id: 1, dstPort: 5555 });
      await agent.whenIdle();
      expect(agent.counters.detections).toBe(1);
    } finally {
      await agent.stop();
    }
    using dir2 = new TempDir();
    const refused = await agentWith(dir2, [{ ...entry({ attack_ports: "all" }), external: { address: `unix:${dir2.file("rule.sock")}`, command: [BUN, rule, "--listen", `unix:${dir2.file("rule.sock")}`] } }], []).then(
      async (a) => (await a.stop(), "started"),
      (e: Error) => e.message,
    );
    expect(refused).toBe('plugin "rule" failed to start: Configure refused its config: attack_ports: expected a list of ports (0..65535) (on_start_failure: abort)');
  }, 30_000);

  test("a config that breaks the JSON Schema the plugin publishes is refused before Configure, each problem at its file:line", async () => {
    using dir = new TempDir();
    let configured = 0;
    const schema = { type: "object", properties: { url: { type: "string" }, retries: { type: "integer", minimum: 0 } }, required: ["url"], additionalProperties: false };
    const responder = {
      describe: async () => ({ ...pluginInfo("hook", "responder", "1", ""), configSchema: JSON.stringify(schema) }),
      health: async () => serving(),
      configure: async () => void configured++,
      handle: async () => Ack.create({ accepted: true }),
    };
    const srv = await servePlugin(`unix:${dir.file("r.sock")}`, { responder });
    const file = dir.file("xids.yaml");
    const write = (config: string) =>
      writeFileSync(file, `control: { socket: ${dir.file("ctl.sock")} }\ndataplane: { state_dir: ${dir.path} }\nplugins:\n  - id: hook\n    kind: responder\n    external: { address: "${srv.address}" }\n    config: ${config}\n`);
    const start = () => Agent.start(loadConfigFile(file, builtins.catalog), { ...builtins, configPath: file, dataplane: new MemoryDataPlane(), log: quietLog }).then(async (a) => (await a.stop(), "started"), (e: Error) => e.message);
    try {
      write("{ url: 42, retries: -1 }");
      const err = await start();
      expect(err).toContain(`plugin "hook" failed to start: invalid configuration ${file}:`);
      expect(err).toContain(`${file}:7:20: plugins[0].config.url: must be string`);
      expect(err).toContain(`${file}:7:33: plugins[0].config.retries: must be >= 0`);
      expect(configured).toBe(0); // refused before the plugin saw it
      write('{ url: "http://127.0.0.1:9/x" }');
      expect(await start()).toBe("started");
      expect(configured).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test("a config for a plugin that takes none is refused, not dropped", async () => {
    using dir = new TempDir();
    const responder = { describe: async () => pluginInfo("plain", "responder", "1", ""), health: async () => serving(), handle: async () => Ack.create({ accepted: true }) };
    const srv = await servePlugin(`unix:${dir.file("r.sock")}`, { responder });
    try {
      const err = await agentWith(dir, [{ id: "plain", kind: "responder", on_start_failure: "abort", config: { url: "x" }, external: { address: srv.address } }], []).then(
        async (a) => (await a.stop(), "started"),
        (e: Error) => e.message,
      );
      expect(err).toBe('plugin "plain" failed to start: Configure refused its config: this plugin takes no configuration (on_start_failure: abort)');
      // Without config: it starts (UNIMPLEMENTED is fine when there is nothing to configure).
      using dir2 = new TempDir();
      const a = await agentWith(dir2, [{ id: "plain", kind: "responder", external: { address: srv.address } }], []);
      expect(a.host.status()[0]!.state).toBe("running");
      await a.stop();
    } finally {
      await srv.close();
    }
  });
});

describe("responder delivery", () => {
  test("a responder that is down for 5 s, then back, receives every detection of that window, in order, each once", async () => {
    using dir = new TempDir();
    const model = { describe: async () => pluginInfo("all-attack", "model", "1", ""), health: async () => serving(), classify: async (rs: FlowRecord[]) => rs.map(attack) };
    const got: string[] = [];
    const responder = { describe: async () => pluginInfo("sink", "responder", "1", ""), health: async () => serving(), handle: async (d: Detection) => (got.push(d.id), Ack.create({ accepted: true })) };
    const m = await servePlugin(`unix:${dir.file("m.sock")}`, { model });
    const address = `unix:${dir.file("r.sock")}`;
    let r = await servePlugin(address, { responder });
    const lines: string[] = [];
    const agent = await agentWith(dir, [{ id: "m", kind: "model", external: { address: m.address } }, { id: "sink", kind: "responder", timeout_ms: 500, external: { address } }], lines);
    const sent: string[] = [];
    agent.pipeline.onDetection((d) => sent.push(d.id));
    try {
      let id = 1;
      const oneFlow = async () => (agent.ingest({ ...sampleRecords(1)[0]!, id: id++ }), await agent.whenIdle());
      for (let i = 0; i < 3; i++) await oneFlow();
      await waitFor("the first three", () => got.length === 3, 5_000);
      await r.close(); // down
      // At least 5 s and at least 10 detections, however slow the machine: a loaded one fits
      // fewer flows into 5 s, and the count below must not depend on that.
      const t0 = Date.now();
      for (let n = 0; n < 10 || Date.now() - t0 < 5_000; n++) {
        await oneFlow();
        await Bun.sleep(500);
      }
      expect(got.length).toBe(3);
      expect(agent.counters.responderQueued).toBeGreaterThanOrEqual(9);
      expect(lines.some((l) => /responder sink: .*detection\(s\) wait, retrying in \d+ ms/.test(l))).toBe(true);
      r = await servePlugin(address, { responder }); // back
      await waitFor("every detection of the outage", () => got.length === sent.length, 15_000);
      expect(got).toEqual(sent); // all, in order, none twice
      expect(agent.counters.responderQueued).toBe(0);
      expect(agent.counters.responderOverflow).toBe(0);
    } finally {
      await agent.stop();
      await r.close();
      await m.close();
    }
  }, 40_000);
});

describe("the core refuses what breaks the plugin contract", () => {
  for (const [name, answer] of Object.entries(ANSWERS)) {
    test(`a model answer with ${name}: refused, counted, logged; no detection comes of it`, async () => {
      using dir = new TempDir();
      const model = { describe: async () => pluginInfo("bad", "model", "1", ""), health: async () => serving(), classify: async (rs: FlowRecord[]) => answer(rs) };
      const srv: PluginServer = await servePlugin(`unix:${dir.file("m.sock")}`, { model });
      const lines: string[] = [];
      const agent = await agentWith(dir, [{ id: "bad", kind: "model", external: { address: srv.address } }, { id: "r", kind: "responder", builtin: "alert-log", config: { path: dir.file("alerts") } }], lines);
      try {
        for (const r of sampleRecords(1)) agent.ingest(r);
        await agent.whenIdle();
        await waitFor("the refusal in the log", () => lines.some((l) => l.includes(" warn ") && REASONS[name]!.test(l)), 5_000);
        const bad = agent.host.status().find((p) => p.id === "bad")!;
        expect(bad.errors).toBeGreaterThanOrEqual(1);
        expect(bad.lastError).toMatch(REASONS[name]!);
        expect(agent.counters.detections).toBe(0);
        expect(agent.counters.flowsUnclassified).toBe(sampleRecords(1).length);
        expect(lines.find((l) => REASONS[name]!.test(l))).toContain("[xids/pipeline] model bad: ");
      } finally {
        await agent.stop();
        await srv.close();
      }
    });
  }

  test("extractor records that are not flows are refused, counted and logged (at most once per 10 s per plugin); good ones pass", async () => {
    using dir = new TempDir();
    const good = sampleRecords(1)[0]!;
    const garbage: [FlowRecord, RegExp][] = [
      [{ ...good, family: 0 }, /family 0 \(expected 4 or 6\)/],
      [{ ...good, srcAddr: "not-an-ip" }, /src_addr "not-an-ip" is not an IPv4 address/],
      [{ ...good, dstAddr: "2001:2::1" }, /dst_addr "2001:2::1" is not an IPv4 address/],
      [{ ...good, features: [1, 2, 3] }, /3 features \(bpf\/FEATURES.md: 22 of the flow, 32 with its source's context, 35 with its first payload's too, or 37 with what it acknowledged\)/],
      [{ ...good, protocol: 300 }, /protocol 300 \/ ports \d+, \d+ out of range/],
      [{ ...good, featureSet: "xids.features.v2" }, /feature_set "xids.features.v2" with 22 features \(that count is xids.features.v1\)/],
    ];
    // What the wire cannot even carry (a NaN in a uint64) is refused by the same check in process.
    const inProcess: [FlowRecord, RegExp][] = [[{ ...good, features: good.features.map((f, i) => (i === 5 ? Number.NaN : f)) }, /feature 5 is NaN/]];
    const extractor = {
      describe: async () => pluginInfo("noisy", "extractor", "1", ""),
      health: async () => serving(),
      stream(sink: (r: FlowRecord) => void) {
        const t = setTimeout(() => [...garbage.map(([r]) => r), good].forEach(sink), 50);
        return () => clearTimeout(t);
      },
    };
    const srv = await servePlugin(`unix:${dir.file("x.sock")}`, { extractor });
    const lines: string[] = [];
    const agent = await agentWith(dir, [{ id: "noisy", kind: "extractor", external: { address: srv.address } }], lines);
    const received: FlowRecord[] = [];
    agent.pipeline.onFlow((r) => received.push(r));
    try {
      await waitFor("the good record", () => agent.counters.flowsReceived === 1, 5_000);
      expect(received.map((r) => r.featureSet)).toEqual(["xids.features.v1"]); // named by its count
      await waitFor("every refusal counted", () => agent.host.status().find((p) => p.id === "noisy")!.errors === garbage.length, 5_000);
      const warns = lines.filter((l) => l.includes("extractor noisy: record refused"));
      expect(warns.length).toBe(1); // the first reason; the rest are held back, not lost from the count
      expect(warns[0]).toContain("[xids] extractor noisy: record refused: family 0 (expected 4 or 6)");
      expect(agent.host.status().find((p) => p.id === "noisy")!.lastError).toMatch(garbage.at(-1)![1]);
      // Each reason as the contract states it (one record at a time through the same check).
      const { recordViolation } = await import("../../core/pipeline/contract.ts");
      for (const [r, why] of [...garbage, ...inProcess]) expect(recordViolation(r)).toMatch(why);
      expect(recordViolation(good)).toBeNull();
    } finally {
      await agent.stop();
      await srv.close();
    }
  });
});
