import { describe, expect, test } from "bun:test";
import { runConformance, type ConformanceReport } from "./conformance.ts";
import { servePlugin } from "../../core/bus/serve.ts";
import { kernelModel } from "../../plugins/models/kernel/index.ts";
import { artifactModel } from "../../plugins/models/artifact/index.ts";
import { alertLog } from "../../plugins/responders/alert-log/index.ts";
import { webhookResponder } from "../../plugins/responders/webhook/index.ts";
import { BUN, Proc, REPO, TempDir, startBuiltin, waitFor } from "../core/util.ts";
import { join } from "node:path";

function assertConformant(r: ConformanceReport): void {
  if (!r.ok) throw new Error(`not conformant:\n  ${r.failures.join("\n  ")}`);
  expect(r.checks.length).toBeGreaterThanOrEqual(3);
}

describe("plugin conformance", () => {
  test("the example external model plugin (its own process)", async () => {
    using dir = new TempDir();
    const address = `unix:${dir.file("example.sock")}`;
    using proc = new Proc([BUN, join(REPO, "plugins/models/example-external/main.ts"), "--listen", address]);
    await waitFor("the example plugin to listen", () => proc.out.includes("serving"), 10_000);
    const r = await runConformance(address);
    assertConformant(r);
    expect(r.kind).toBe("model");
    expect(r.info?.id).toBe("example-rule");
  });

  test("built-in models served on the bus: kernel, artifact (decision tree, int32 MLP, XGBoost/ONNX)", async () => {
    using dir = new TempDir();
    for (const [name, api] of [
      ["kernel", await startBuiltin(kernelModel(), {}, "kernel-mlp")],
      ["artifact-dt", await startBuiltin(artifactModel(), { artifact: join(REPO, "models/artifacts/dt") }, "dt")],
      ["artifact-mlp", await startBuiltin(artifactModel(), { artifact: join(REPO, "models/artifacts/mlp-int32") }, "mlp")],
      ["artifact-xgb", await startBuiltin(artifactModel(), { artifact: join(REPO, "models/artifacts/xgb") }, "xgb")],
    ] as const) {
      const srv = await servePlugin(`unix:${dir.file(`${name}.sock`)}`, { model: api });
      try {
        assertConformant(await runConformance(srv.address, { kind: "model" }));
      } finally {
        await srv.close();
      }
    }
  });

  test("built-in responders served on the bus: alert-log, webhook (over TCP loopback)", async () => {
    using dir = new TempDir();
    let posts = 0;
    const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (posts++, new Response("ok")) });
    try {
      const responders = [
        ["alert-log", await startBuiltin(alertLog(), { path: dir.file("alerts.jsonl") })],
        ["webhook", await startBuiltin(webhookResponder(), { url: `http://127.0.0.1:${http.port}/hook`, secret: "0123456789abcdef-secret" })],
      ] as const;
      for (const [name, api] of responders) {
        const srv = await servePlugin(name === "webhook" ? "127.0.0.1:0" : `unix:${dir.file(`${name}.sock`)}`, { responder: api });
        try {
          assertConformant(await runConformance(srv.address));
        } finally {
          await srv.close();
        }
      }
      await waitFor("webhook deliveries", () => posts >= 21, 5_000);
      expect((await Bun.file(dir.file("alerts.jsonl")).text()).trim().split("\n").length).toBe(21);
    } finally {
      http.stop(true);
    }
  });

  test("a non-conformant plugin is reported check by check", async () => {
    using dir = new TempDir();
    const api = await startBuiltin(kernelModel(), {}, "kernel-mlp");
    // Breaks ordering: answers in reverse.
    const broken = { ...api, classify: async (rs: Parameters<typeof api.classify>[0]) => (await api.classify(rs)).reverse() };
    const srv = await servePlugin(`unix:${dir.file("broken.sock")}`, { model: broken });
    try {
      const r = await runConformance(srv.address);
      expect(r.ok).toBe(false);
      expect(r.failures.some((f) => f.startsWith("Classify answers one result per record, in order, with its flow_id: result 0 has flow_id 105, expected 101"))).toBe(true);
    } finally {
      await srv.close();
    }
  });
});
