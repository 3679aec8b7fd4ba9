import { describe, expect, test } from "bun:test";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { servePlugin } from "../../core/bus/serve.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import { definePlugin, type PluginRegistration, type FlowRecord } from "../../core/plugin-api/types.ts";
import { s } from "../../core/config/schema.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import type { Catalog } from "../../core/host/host.ts";
import { Classification, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Ack, type Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { pluginInfo, serving } from "../../core/plugin-api/info.ts";
import { sampleRecords } from "../conformance/conformance.ts";
import { TempDir, quietLog, waitFor } from "./util.ts";

/** Test models: "abstain" answers NONE, "fail" throws, "port" says ATTACK for dst port 22. */
function catalog(seen: Detection[]): Catalog {
  const model = (mode: string): PluginRegistration =>
    definePlugin({
      name: mode,
      kind: "model",
      description: "",
      config: s.object({}),
      async init(ctx) {
        return {
          describe: async () => pluginInfo(ctx.id, "model", "1", ""),
          health: async () => serving(),
          async classify(rs: FlowRecord[]) {
            if (mode === "fail") throw new Error("model down");
            const order = mode === "reverse" ? [...rs].reverse() : rs;
            return order.map((r) =>
              Classification.create({
                flowId: r.id,
                verdict: mode === "abstain" ? Verdict.VERDICT_NONE : r.dstPort === 22 ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN,
                label: r.dstPort === 22 ? "PortScan" : "BENIGN",
              }),
            );
          },
        };
      },
    }) as unknown as PluginRegistration;
  const sink: PluginRegistration = definePlugin({
    name: "sink",
    kind: "responder",
    description: "",
    config: s.object({}),
    async init(ctx) {
      return {
        describe: async () => pluginInfo(ctx.id, "responder", "1", ""),
        health: async () => serving(),
        handle: async (d: Detection) => (seen.push(d), Ack.create({ accepted: true })),
      };
    },
  }) as unknown as PluginRegistration;
  const all: Record<string, PluginRegistration> = { abstain: model("abstain"), fail: model("fail"), reverse: model("reverse"), port: model("port"), sink };
  return { get: (n) => all[n] ?? builtinCatalog.get(n), names: () => Object.keys(all) };
}

async function start(raw: object, seen: Detection[], dp = new MemoryDataPlane()) {
  using dir = new TempDir();
  const r = checkConfig({ control: { socket: dir.file("ctl.sock") }, ...raw });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return { agent: await Agent.start(r.config, { ...builtins, dataplane: dp, log: quietLog, catalog: catalog(seen) }), dp };
}

describe("agent pipeline", () => {
  test("model chain: abstain, failure and out-of-order answers pass records on; the first verdict wins; attacks are blocked and sent to responders", async () => {
    const seen: Detection[] = [];
    const { agent, dp } = await start(
      {
        plugins: [
          { id: "a", kind: "model", builtin: "abstain" },
          { id: "f", kind: "model", builtin: "fail" },
          { id: "x", kind: "model", builtin: "reverse" },
          { id: "p", kind: "model", builtin: "port" },
          { id: "drop", kind: "responder", builtin: "xdp-drop" },
          { id: "r", kind: "responder", builtin: "sink" },
        ],
        pipeline: { batch_wait_ms: 1, block: { ttl_seconds: 30, reason: 5 } },
      },
      seen,
    );
    try {
      expect(agent.config.pipeline.models).toEqual(["a", "f", "x", "p"]);
      for (const r of sampleRecords(1)) agent.ingest(r);
      await agent.whenIdle();
      await waitFor("the responder", () => seen.length === 1);
      // "f" throws and "x" answers out of order: both count as errors and pass the records on.
      expect(agent.counters).toMatchObject({ flowsReceived: 5, flowsClassified: 5, detections: 1, classifyErrors: 2, flowsUnclassified: 0, blocks: 1 });
      expect(agent.host.status().find((p) => p.id === "x")!.lastError).toBe("answer refused: result 0 is for flow 5, expected 1 (answers must be in input order)");
      expect(seen[0]).toMatchObject({ detector: "p", blockTtlSeconds: 30, action: "blocked", record: { srcAddr: "198.18.0.9", dstPort: 22 }, classification: { label: "PortScan" } });
      expect(dp.listBlocked()).toMatchObject([{ address: "198.18.0.9", reason: 5 }]);
    } finally {
      await agent.stop();
    }
  });

  test("records nobody classifies are counted; a full queue drops and counts instead of blocking", async () => {
    const { agent, dp } = await start(
      { plugins: [{ id: "a", kind: "model", builtin: "abstain" }], pipeline: { batch_wait_ms: 50, queue_size: 3, responders: [] } },
      [],
    );
    try {
      for (const r of sampleRecords(1)) agent.ingest(r);
      await agent.whenIdle();
      expect(agent.counters).toMatchObject({ flowsReceived: 5, flowsDropped: 2, flowsUnclassified: 3, flowsClassified: 0 });
    } finally {
      await agent.stop();
    }
  });

  test("flow records from an external FeatureExtractor plugin are routed like the kernel's", async () => {
    using dir = new TempDir();
    const seen: Detection[] = [];
    // An extractor served on the bus from this process: it streams the sample records.
    const extractor = {
      describe: async () => pluginInfo("pcap-like", "extractor", "1", ""),
      health: async () => serving(),
      stream(sink: (r: FlowRecord) => void) {
        const t = setTimeout(() => sampleRecords(1).forEach(sink), 50);
        return () => clearTimeout(t);
      },
    };
    const srv = await servePlugin(`unix:${dir.file("x.sock")}`, { extractor });
    const { agent } = await start(
      {
        plugins: [
          { id: "x", kind: "extractor", external: { address: srv.address } },
          { id: "p", kind: "model", builtin: "port" },
          { id: "r", kind: "responder", builtin: "sink" },
        ],
        pipeline: { batch_wait_ms: 1 },
      },
      seen,
    );
    try {
      await waitFor("records from the extractor", () => agent.counters.flowsReceived === 5 && seen.length === 1, 5_000);
      expect(seen[0]!.record!.source).toBe("conformance");
    } finally {
      await agent.stop();
      await srv.close();
    }
  });
});
