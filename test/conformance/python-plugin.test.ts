// The author kit's Python model plugin (plugins/models/example-python): conformant on its own, and
// run by a real `xids run` as an external plugin (the core starts and supervises it) on a veth
// pair: its verdict on a real flow reaches the alert log, and the xdp-drop responder blocks the
// source in the kernel.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runConformance } from "./conformance.ts";
import { connectControl } from "../../core/control/client.ts";
import { twoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

/** Debian's python3: where python3-grpcio and python3-grpc-tools are installed. */
const PYTHON = "/usr/bin/python3";
const PLUGIN = join(REPO, "plugins/models/example-python/plugin.py");

describe("the Python example model plugin", () => {
  test("passes the conformance suite in its own process", async () => {
    using dir = new TempDir();
    const address = `unix:${dir.file("py.sock")}`;
    using proc = new Proc([PYTHON, PLUGIN, "--listen", address]);
    await waitFor("the plugin to listen", () => proc.out.includes("serving xids.plugin.v1"), 20_000);
    const r = await runConformance(address);
    if (!r.ok) throw new Error(`not conformant:\n  ${r.failures.join("\n  ")}`);
    expect([r.kind, r.info?.id]).toEqual(["model", "example-python"]);
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
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      expect(await agent.exited(10_000)).toBe(0);
    }
  }, 90_000);
});
