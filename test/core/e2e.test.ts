// End to end: `xids run` as its own process on a real XDP data plane (a veth pair in two test
// namespaces), with the in-kernel model entry, an external model plugin process supervised by the
// core, and a webhook responder. Real UDP flows are classified through the plugin bus; the
// external plugin is killed and restarted while the core keeps running and the kernel keeps
// dropping; separate CLI processes drive the control API (block, list, unblock, model push).
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createVethPair, twoHosts } from "../harness/netns.ts";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { connectControl } from "../../client/control.ts";
import { ModelBackendClient } from "../../proto/gen/xids/plugin/v1/model.ts";
import { DescribeRequest } from "../../proto/gen/xids/plugin/v1/common.ts";
import { call } from "../../core/bus/grpc.ts";
import { BUN, Proc, REPO, TempDir, quietLog, waitFor, xids } from "./util.ts";

const SECRET = "e2e-shared-secret-0123456789";
const BENIGN_SRC = "198.18.0.1";
const ATTACKER = "198.18.0.66";
const ATTACKER2 = "198.18.0.77";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("e2e: xids run", () => {
  test("flows through the bus, plugin crash and restart, control API from other processes", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    hosts.client.execSync(["ip", "addr", "add", `${ATTACKER}/24`, "dev", "eth0"]);
    hosts.client.execSync(["ip", "addr", "add", `${ATTACKER2}/24`, "dev", "eth0"]);
    const send = (src: string, port: number, count: number) =>
      hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, hosts.serverIp, String(port), String(count)], { timeoutMs: 20_000 });

    // The webhook receiver checks every signature.
    const hooks: { src: string; dport: number; detector: string; label: string }[] = [];
    let badSignatures = 0;
    const http = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = await req.text();
        if (req.headers.get("x-xids-signature") !== "sha256=" + createHmac("sha256", SECRET).update(body).digest("hex")) badSignatures++;
        const d = JSON.parse(body);
        hooks.push({ src: d.record.srcAddr, dport: d.record.dstPort, detector: d.detector, label: d.classification.label });
        return new Response("ok");
      },
    });

    const sock = dir.file("ctl.sock");
    const pluginSock = dir.file("ext.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `# e2e configuration
dataplane:
  interfaces: [eth0]
  netns: ${hosts.server.name}
  xdp_mode: native
  state_dir: ${dir.file("state")}  # model versions of this run only: the push below is version 1
  early_end_packets: 1      # every packet ends its flow: one record per datagram
  sweep_interval_ms: 100
pipeline:
  models: [kernel-mlp, ext] # kernel verdict first; records it did not classify go to ext
  responders: [xdp-drop, hook]
  batch_wait_ms: 2
  block: { enabled: true, ttl_seconds: 120, reason: 2 }
plugins:
  - id: kernel-mlp
    kind: model
    builtin: kernel
    config: { artifact: "" }  # no model in the kernel yet: pushed below
  - id: ext
    kind: model
    external:
      address: unix:${pluginSock}
      command: [${BUN}, ${join(REPO, "plugins/models/example-external/main.ts")}, --listen, "unix:${pluginSock}", --attack-ports, "4444"]
      restart: { initial_backoff_ms: 200, max_backoff_ms: 2000 }
    timeout_ms: 1000
    on_start_failure: abort
  - id: hook
    kind: responder
    builtin: webhook
    config: { url: "http://127.0.0.1:${http.port}/xids", secret: ${SECRET}, retries: 2, backoff_ms: 50 }
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
control:
  socket: ${sock}
log: { level: info }
`,
    );
    const env = { XIDS_CONTROL_SOCKET: sock };
    expect((await xids(["config", "check", config])).code).toBe(0);

    using core = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const c = connectControl({ socket: sock });
    let extPid = 0;
    try {
      const st = await waitFor("the core to run", async () => {
        if (!existsSync(sock)) return null;
        const s = await c.status();
        return s.state === "running" ? s : null;
      }, 20_000).catch(async (err) => {
        throw new Error(`${(err as Error).message}; status ${JSON.stringify(await c.status().catch(() => null))}; log:\n${core.err}`);
      });
      expect(st.xdpMode).toBe("native");
      expect(st.interface).toBe("eth0");
      expect(st.plugins.map((p) => [p.id, p.state, p.external])).toEqual([
        ["kernel-mlp", "running", false],
        ["ext", "running", true],
        ["hook", "running", false],
        ["xdp", "running", false],
        ["xdp-drop", "running", false],
      ]);

      // A separate watch process streams the detections.
      using watcher = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--json", "--count", "2"], { env });
      await waitFor("the watch client", async () => (await c.getStats()).watchClients === 1, 10_000);

      // 1. Real flows, classified through the bus by the external plugin.
      await send(BENIGN_SRC, 80, 5);
      await send(ATTACKER, 4444, 1);
      await waitFor("the webhook detection", () => hooks.some((h) => h.src === ATTACKER), 15_000);
      expect(hooks[0]).toEqual({ src: ATTACKER, dport: 4444, detector: "ext", label: "ATTACK" });
      expect(hooks.some((h) => h.src === BENIGN_SRC)).toBe(false);
      const blocked = await xids(["list", "--json"], env);
      expect(blocked.code).toBe(0);
      expect(blocked.out).toContain(`"address":"${ATTACKER}"`);
      let stats = await c.getStats();
      expect(stats.flowsReceived).toBeGreaterThanOrEqual(6);
      expect(stats.detections).toBeGreaterThanOrEqual(1);
      expect(stats.plugins["ext.calls"]).toBeGreaterThanOrEqual(1);

      // The kernel now drops the attacker: its packets never become flows.
      const dropsBefore = stats.dataplane.drop_blocked ?? 0;
      await send(ATTACKER, 4444, 5);
      await waitFor("kernel drops", async () => ((await c.getStats()).dataplane.drop_blocked ?? 0) >= dropsBefore + 5, 5_000);

      // 2. Kill the external plugin: reported, restarted with backoff; the core keeps running.
      const pc = new ModelBackendClient(`unix:${pluginSock}`, grpc.credentials.createInsecure());
      extPid = Number((await call(pc.describe.bind(pc), DescribeRequest.create(), { timeoutMs: 2_000 })).properties.pid);
      pc.close();
      expect(alive(extPid)).toBe(true);
      process.kill(extPid, "SIGKILL");
      const down = await waitFor("the crash to be reported", async () => {
        const s = await c.status();
        return s.plugins[1]!.state !== "running" ? s : null;
      }, 5_000);
      expect(["restarting", "degraded"]).toContain(down.plugins[1]!.state);
      expect(down.state).toBe("degraded");
      // Meanwhile the kernel path still protects: the blocked attacker is still dropped.
      const drops2 = (await c.getStats()).dataplane.drop_blocked ?? 0;
      await send(ATTACKER, 4444, 3);
      await waitFor("kernel drops while the plugin is down", async () => ((await c.getStats()).dataplane.drop_blocked ?? 0) >= drops2 + 3, 5_000);
      const back = await waitFor("the restart", async () => {
        const s = await c.status();
        return s.plugins[1]!.state === "running" && s.state === "running" ? s : null;
      }, 15_000);
      expect(back.plugins[1]!.restarts).toBe(1);
      // The restarted plugin classifies new flows.
      await send(ATTACKER2, 4444, 2);
      await waitFor("a detection from the restarted plugin", () => hooks.some((h) => h.src === ATTACKER2), 15_000);
      expect(badSignatures).toBe(0);
      expect(await watcher.exited(10_000)).toBe(0);
      const watched = watcher.out.trim().split("\n").map((l) => JSON.parse(l));
      expect(watched.map((e) => [e.detection?.record?.srcAddr, e.detection?.detector])).toEqual([
        [ATTACKER, "ext"],
        [ATTACKER2, "ext"],
      ]);

      // 3. A separate client process drives the control API.
      expect((await xids(["block", "198.18.0.99", "--ttl", "60", "--reason", "4"], env)).out).toBe("blocked 198.18.0.99 (60s, reason 4)\n");
      expect((await xids(["list"], env)).out).toMatch(/198\.18\.0\.99 +\d+s +4 +0/);
      expect((await xids(["unblock", "198.18.0.99"], env)).out).toBe("unblocked 198.18.0.99\n");
      expect((await xids(["list"], env)).out).not.toContain("198.18.0.99");
      // Bad requests from a client process: exact errors, nothing changes.
      const badBlock = await xids(["block", "198.18.0.256"], env);
      expect([badBlock.code, badBlock.err]).toEqual([1, 'xids block: INVALID_ARGUMENT: address: expected an IPv4 or IPv6 host address, got "198.18.0.256" (not an IPv4 or IPv6 address)\n']);
      const badPush = await xids(["model", "push", join(REPO, "models/artifacts/xgb"), "--target", "kernel-mlp"], env);
      expect(badPush.code).toBe(1);
      expect(badPush.err).toContain(`xids model push: FAILED_PRECONDITION: plugin "kernel-mlp" update: the kernel runs mlp-int32, dt or gbt artifacts, ${join(REPO, "models/artifacts/xgb")} is xgb`);
      expect((await c.status()).modelVersion).toBe(0);
      expect((await c.listBlocked()).hosts.map((h) => h.address).sort()).toEqual([ATTACKER, ATTACKER2]);

      // PushModel: the MLP goes into the kernel's idle parameter slot, is verified there against
      // the TypeScript oracle, and goes live; from then on the kernel itself classifies flows.
      const verdicts = async () => {
        const d = (await c.getStats()).dataplane;
        return (d.verdict_benign ?? 0) + (d.verdict_attack ?? 0);
      };
      expect(await verdicts()).toBe(0);
      const push = await xids(["model", "push", join(REPO, "models/artifacts/mlp-int32"), "--target", "kernel-mlp"], env);
      expect([push.code, push.out]).toEqual([0, "kernel-mlp now runs mlp-int32:mlp-int32 (version 1)\n"]);
      expect((await c.status()).modelVersion).toBe(1);
      await send(BENIGN_SRC, 8080, 1);
      await waitFor("an in-kernel verdict", async () => (await verdicts()) >= 1, 5_000);

      // 4. Clean stop: reverse order, plugin process gone, XDP detached.
      stats = await c.getStats();
      expect(stats.ringbufLost).toBe(0);
      core.proc.kill("SIGTERM");
      expect(await core.exited(15_000)).toBe(0);
      expect(core.err).toMatch(/\[xids\/hook\] stopped[\s\S]*\[xids\/ext\] stopped[\s\S]*\[xids\/kernel-mlp\] stopped/);
      const extNow = Number(/process started \(pid (\d+), restart 1\)/.exec(core.err)?.[1]);
      expect(alive(extNow)).toBe(false);
      expect(hosts.server.execSync(["ip", "link", "show", "eth0"]).stdout).not.toContain("xdp");
      expect(existsSync(sock)).toBe(false);
    } finally {
      c.close();
      http.stop(true);
      // On a failure, stop the core gracefully first so it stops its plugin process too.
      if (core.proc.exitCode === null && core.proc.signalCode === null) {
        core.proc.kill("SIGTERM");
        await core.exited(5_000);
      }
      if (extPid && alive(extPid)) process.kill(extPid, "SIGKILL");
    }
  }, 90_000);

  test("one data plane protects several interfaces; a control-API block drops on each", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    createVethPair({ ns: hosts.server, ifname: "eth1", addrs: ["198.18.5.2/24"] }, { ns: hosts.client, ifname: "eth1", addrs: ["198.18.5.1/24"] });
    const r = checkConfig(
      {
        dataplane: { interfaces: ["eth0", "eth1"], netns: hosts.server.name },
        control: { socket: dir.file("ctl.sock") },
        plugins: [
          { id: "xdp", kind: "extractor", builtin: "xdp" },
          { id: "kernel-mlp", kind: "model", builtin: "kernel", config: { artifact: "" } },
          { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
        ],
      },
      builtinCatalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const agent = await Agent.start(r.config, { ...builtins, log: quietLog });
    const c = connectControl({ socket: dir.file("ctl.sock") });
    try {
      const st = await c.status();
      expect([st.interface, st.xdpMode]).toEqual(["eth0,eth1", "native"]);
      for (const ifname of ["eth0", "eth1"]) expect(hosts.server.execSync(["ip", "link", "show", ifname]).stdout).toContain("xdp");
      await c.block("198.18.0.1");
      await c.block("198.18.5.1");
      const drops = async () => (await c.getStats()).dataplane.drop_blocked ?? 0;
      await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), "198.18.0.1", hosts.serverIp, "9", "2"], { timeoutMs: 10_000 });
      await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), "198.18.5.1", "198.18.5.2", "9", "2"], { timeoutMs: 10_000 });
      await waitFor("drops on both interfaces", async () => (await drops()) >= 4, 5_000);
    } finally {
      c.close();
      await agent.stop();
    }
    for (const ifname of ["eth0", "eth1"]) expect(hosts.server.execSync(["ip", "link", "show", ifname]).stdout).not.toContain("xdp");
  });

  test("a bad config is refused with exact errors and nothing starts", async () => {
    using dir = new TempDir();
    const config = dir.file("bad.yaml");
    writeFileSync(config, `control:\n  socket: ${dir.file("ctl.sock")}\npipeline:\n  models: [ghost]\nplugins:\n  - { id: hook, kind: responder, builtin: webhook, config: { url: "ftp://nope" } }\n`);
    const r = await xids(["run", "--config", config]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `invalid configuration ${config}:\n` +
        `  ${config}:4:12: pipeline.models[0]: no plugin with id "ghost" (defined: hook)\n` +
        `  ${config}:6:67: plugins[0].config.url: expected an http:// or https:// URL, got "ftp://nope": scheme ftp: is not http or https\n`,
    );
    expect(existsSync(dir.file("ctl.sock"))).toBe(false);
    const check = await xids(["config", "check", config]);
    expect(check.code).toBe(1);
    expect(check.err).toBe(r.err);
  });
});
