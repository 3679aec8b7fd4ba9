// The author kit's Python model plugin (plugins/models/example-python): conformant on its own, and
// run by a real `xids run` as an external plugin (the core starts and supervises it) on a veth
// pair: its verdict on a real flow reaches the alert log, and the xdp-drop responder blocks the
// source in the kernel.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { runConformance, sampleRecords } from "./conformance.ts";
import { call } from "../../core/bus/grpc.ts";
import { DescribeRequest } from "../../proto/gen/xids/plugin/v1/common.ts";
import { ClassifyRequest, ModelBackendClient, UpdateRequest } from "../../proto/gen/xids/plugin/v1/model.ts";
import { artifactModel } from "../../plugins/models/artifact/index.ts";
import { rng } from "../../models/data/split.ts";
import { connectControl } from "../../client/control.ts";
import { twoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, startBuiltin, waitFor } from "../core/util.ts";

/** Debian's python3: where python3-grpcio and python3-grpc-tools are installed. */
const PYTHON = "/usr/bin/python3";
const PLUGIN = join(REPO, "plugins/models/example-python/plugin.py");
const DT = join(REPO, "models/artifacts/dt");

describe("the Python example model plugin", () => {
  test("passes the conformance suite in its own process", async () => {
    using dir = new TempDir();
    const address = `unix:${dir.file("py.sock")}`;
    using proc = new Proc([PYTHON, PLUGIN, "--listen", address]);
    await waitFor("the plugin to listen", () => proc.out.includes("serving xids.plugin.v1"), 20_000);
    const r = await runConformance(address);
    if (!r.ok) throw new Error(`not conformant:\n  ${r.failures.join("\n  ")}`);
    expect([r.kind, r.info?.id]).toEqual(["model", "example-python"]);

    // Update to the shipped decision tree: the Python walk answers exactly as the TypeScript
    // artifact model does, on every record (sample flows and 2,000 random feature vectors).
    const client = new ModelBackendClient(address, grpc.credentials.createInsecure());
    try {
      const up = await call(client.update.bind(client), UpdateRequest.create({ artifactDir: DT, name: "dt", kind: "dt" }), { timeoutMs: 5_000 });
      expect([up.model, up.version]).toEqual(["dt", 2]);
      const wrong = await call(client.update.bind(client), UpdateRequest.create({ artifactDir: join(REPO, "models/artifacts/mlp-int32"), name: "mlp", kind: "mlp" }), { timeoutMs: 5_000 }).catch((e: Error) => e.message);
      expect(String(wrong)).toContain("this plugin runs decision-tree artifacts (kind dt)");
      const ts = await startBuiltin(artifactModel(), { artifact: DT }, "dt");
      const rand = rng(7);
      const records = [...sampleRecords(1), ...Array.from({ length: 2_000 }, (_, i) => ({ ...sampleRecords(1)[0]!, id: 100 + i, features: Array.from({ length: 32 }, (_, k) => Math.floor(rand() * (k === 0 ? 65536 : k === 1 ? 256 : 5_000))) }))];
      const py = (await call(client.classify.bind(client), ClassifyRequest.create({ records }), { timeoutMs: 10_000 })).results;
      const want = await ts.classify(records);
      expect(py.map((c) => [c.flowId, c.verdict, c.score])).toEqual(want.map((c) => [c.flowId, c.verdict, c.score]));
      expect(new Set(py.map((c) => c.verdict)).size).toBe(2); // both classes occur: the comparison means something
    } finally {
      client.close();
    }
  }, 60_000);

  test("under a real xids run: its verdict on a real flow is a detection, and the source is blocked in the kernel", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    const sock = dir.file("ctl.sock"), alerts = dir.file("alerts.jsonl"), py = dir.file("py.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, idle_timeout_ms: 300, state_dir: ${dir.path} }
pipeline: { models: [py], responders: [xdp-drop, log], batch_wait_ms: 1 }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - id: py
    kind: model
    external: { address: "unix:${py}", command: ["${PYTHON}", "${PLUGIN}", "--listen", "unix:${py}"], start_timeout_ms: 20000 }
    config: { probe_max_packets: 2 }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
  - { id: log, kind: responder, builtin: alert-log, config: { path: ${alerts} } }
control: { socket: ${sock} }
`,
    );
    const agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const c = connectControl({ socket: sock, timeoutMs: 2_000 });
    try {
      await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 30_000, 100);
      expect(agent.err).toContain("[xids/py] connected to unix:");
      // It received its config: (Configure), and says so in Describe.
      const direct = new ModelBackendClient(`unix:${py}`, grpc.credentials.createInsecure());
      const info = await call(direct.describe.bind(direct), DescribeRequest.create(), { timeoutMs: 5_000 }).finally(() => direct.close());
      expect(info.properties.probe_max_packets).toBe("2");
      expect(JSON.parse(info.configSchema)).toMatchObject({ properties: { probe_max_packets: { type: "integer", minimum: 1 } } });
      // Benign first: datagrams with payload. Then one probe: a SYN to a closed port (the RST
      // goes out, XDP sees only the SYN: one TCP packet, no payload).
      await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), hosts.clientIp, hosts.serverIp, "5600", "5"], { timeoutMs: 10_000 });
      await Bun.sleep(600);
      expect((await c.listBlocked()).hosts).toEqual([]);
      await hosts.client.exec(["nc", "-z", "-w", "1", hosts.serverIp, "6001"], { allowFail: true, timeoutMs: 5_000 });
      await waitFor("the detection", () => existsSync(alerts) && readFileSync(alerts, "utf8").includes('"detector":"py"'), 10_000);
      const alert = JSON.parse(readFileSync(alerts, "utf8").trim().split("\n")[0]!);
      expect(alert).toMatchObject({ src_ip: hosts.clientIp, dest_port: 6001, proto: "TCP", alert: { detector: "py", model: "example-python v1", label: "PortScan", verdict_source: "user-space" }, action: { type: "blocked" } });
      expect((await c.listBlocked()).hosts.map((h) => h.address)).toEqual([hosts.clientIp]);
      const stats = await c.getStats();
      expect(stats.plugins["py.calls"]).toBeGreaterThan(0);
      expect(stats.plugins["py.errors"] ?? 0).toBe(0);
      // PushModel reaches the external plugin (ModelBackend.Update) and reports its answer.
      expect(await c.pushModel(DT, "py")).toMatchObject({ target: "py", model: "dt", version: 2 });
      expect(await c.status()).toMatchObject({ model: "py", modelVersion: 2 });
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      expect(await agent.exited(10_000)).toBe(0);
    }
  }, 90_000);
});
