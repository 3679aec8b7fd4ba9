// Responders and observability on a real XDP data plane (veth pair in two test namespaces):
// the XDP-drop block path (TTL, reason, the allow list wins over the model), a dead webhook
// receiver that does not delay blocking, the EVE-style alert log, /metrics parsed strictly and
// compared with the kernel's per-CPU counters, and the live page rendered by headless Chromium.
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { twoHosts } from "../harness/netns.ts";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { builtins } from "../../plugins/index.ts";
import { catalogWithPortModel } from "../harness/port-model.ts";
import { KernelDataPlane } from "../../core/ebpf/kernel-dataplane.ts";
import { COUNTER_NAMES, MAPS } from "../../core/ebpf/abi.ts";
import { u32Key } from "../../native/index.ts";
import { connectControl } from "../../client/control.ts";
import { BUN, REPO, TempDir, quietLog, waitFor } from "../core/util.ts";
import { parseExposition, valueOf } from "./prom-parse.ts";
import { CHROMIUM, chromium } from "./chromium.ts";

const ATTACKER = "198.18.0.66";
const FRIEND = "198.18.0.70"; // on the allow list: never blocked, whatever the model says

const catalog = catalogWithPortModel;

/** A counter straight from the kernel map: one block of u64 counters per CPU, summed here. */
function kernelCounter(dp: KernelDataPlane, name: string): number {
  const idx = COUNTER_NAMES.indexOf(name);
  const perCpu = dp.kernel.coll.map(MAPS.counters).lookupPerCpu(u32Key(0))!;
  return Number(perCpu.reduce((a, v) => a + new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(8 * idx, true), 0n));
}

describe("responders and observability", () => {
  test("block path, dead webhook, alert log, /metrics against the kernel counters, live page in Chromium", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    for (const a of [ATTACKER, FRIEND]) hosts.client.execSync(["ip", "addr", "add", `${a}/24`, "dev", "eth0"]);
    const send = (src: string, port: number, count: number) =>
      hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, hosts.serverIp, String(port), String(count)], { timeoutMs: 20_000 });

    // A webhook receiver that accepts the connection and never answers.
    let hookHits = 0;
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (hookHits++, new Promise<Response>(() => {})) });
    const alerts = dir.file("alerts.jsonl");
    const r = checkConfig(
      {
        dataplane: { interfaces: ["eth0"], netns: hosts.server.name, early_end_packets: 1, sweep_interval_ms: 100, state_dir: dir.file("state") },
        pipeline: { models: ["port"], responders: ["xdp-drop", "hook", "log"], batch_wait_ms: 1, block: { ttl_seconds: 120, reason: 3 } },
        plugins: [
          { id: "xdp", kind: "extractor", builtin: "xdp" },
          { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
          { id: "port", kind: "model", builtin: "port-model" },
          { id: "kernel-mlp", kind: "model", builtin: "kernel", config: { artifact: "" } }, // hot-updated below
          { id: "hook", kind: "responder", builtin: "webhook", config: { url: `http://127.0.0.1:${dead.port}/x`, timeout_ms: 5_000, retries: 2, secret: "0123456789abcdef-secret" } },
          { id: "log", kind: "responder", builtin: "alert-log", config: { path: alerts } },
        ],
        allow: [`${FRIEND}/32`],
        control: { socket: dir.file("ctl.sock") },
        http: { listen: "127.0.0.1:0" },
      },
      catalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const agent = await Agent.start(r.config, { ...builtins, log: quietLog, catalog });
    try {
      const dp = agent.dataplane as KernelDataPlane;
      const url = agent.httpUrl!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      // 1. An attack flow: blocked although the webhook receiver hangs. The block is in place
      // while the webhook's first attempt is still hanging (its timeout is 5 s): blocking never
      // waits for a responder.
      await send("198.18.0.1", 80, 3);
      await send(ATTACKER, 4444, 1);
      await waitFor("the attacker to be blocked", () => agent.dataplane.listBlocked().some((h) => h.address === ATTACKER), 10_000, 5);
      const hookStats = (await agent.host.api("hook", "responder")!.describe()).properties;
      expect([hookStats.delivered, hookStats.failed]).toEqual(["0", "0"]);
      await waitFor("the webhook attempt", () => hookHits >= 1, 3_000);
      const hook = agent.host.status().find((p) => p.id === "hook")!;
      expect(hook.state).toBe("running");
      const blocked = agent.dataplane.listBlocked().find((h) => h.address === ATTACKER)!;
      expect(blocked.reason).toBe(3);
      expect(blocked.expiresInMs).toBeGreaterThan(110_000);
      expect(blocked.expiresInMs).toBeLessThanOrEqual(120_000);
      // ...and the kernel drops it from now on.
      await send(ATTACKER, 4444, 5);
      await waitFor("kernel drops", () => kernelCounter(dp, "drop_blocked") >= 5, 5_000);

      // 2. The model calls the allow-listed host an attacker: detected, reported, never blocked.
      const detBefore = agent.counters.detections;
      await send(FRIEND, 4444, 2);
      await waitFor("the friend's detection", () => agent.counters.detections > detBefore && agent.counters.blocksSkippedAllowed >= 1, 5_000);
      expect(agent.dataplane.listBlocked().map((h) => h.address)).toEqual([ATTACKER]);

      // 3. The alert log: one EVE-style JSON object per line per detection.
      await agent.whenIdle();
      await waitFor("one alert line per detection", () => readFileSync(alerts, "utf8").trim().split("\n").length === agent.counters.detections, 5_000);
      const lines = readFileSync(alerts, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.length).toBe(agent.counters.detections);
      const first = lines[0];
      expect(Date.parse(first.timestamp)).toBeGreaterThan(Date.now() - 60_000);
      expect(first).toMatchObject({
        event_type: "alert",
        src_ip: ATTACKER,
        dest_ip: hosts.serverIp,
        dest_port: 4444,
        proto: "UDP",
        flow: { family: 4, protocol: 17, end_reason: "early", source: "eth0" },
        alert: { detector: "port", model: "port v3", model_version: 3, label: "PortScan", score: 0.97, verdict_source: "user-space" },
        action: { type: "blocked", ttl_seconds: 120 },
      });
      expect(first.features["Dst Port"]).toBe(4444);
      expect(Object.keys(first.features).length).toBe(37); // the flow's 22, its source's context, its first payload's scan, what it acknowledged
      expect(lines.find((l) => l.src_ip === FRIEND).action).toEqual({ type: "allowed", allow: `${FRIEND}/32` });

      // 4. /metrics: valid exposition format; kernel numbers equal the per-CPU sums of the map.
      await agent.whenIdle();
      const names = ["pkts_seen", "pkts_passed", "pkts_dropped", "drop_blocked", "allowed", "flows_started", "flows_ended", "records_emitted"];
      const before = Object.fromEntries(names.map((n) => [n, kernelCounter(dp, n)]));
      const flowsBefore = agent.counters.flowsReceived;
      const detectionsBefore = agent.counters.detections;
      const skippedBefore = agent.counters.blocksSkippedAllowed;
      const res = await fetch(`${url}/metrics`);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const text = await res.text();
      const after = Object.fromEntries(names.map((n) => [n, kernelCounter(dp, n)]));
      const fam = parseExposition(text);
      for (const f of fam.keys()) expect(f.startsWith("xids_")).toBe(true);
      for (const n of names) {
        // Stray packets (IPv6 neighbour discovery) may arrive between the reads: bracketed.
        const v = valueOf(fam, `xids_kernel_${n}_total`);
        expect(v).toBeGreaterThanOrEqual(before[n]!);
        expect(v).toBeLessThanOrEqual(after[n]!);
      }
      expect(valueOf(fam, "xids_kernel_drop_blocked_total")).toBeGreaterThanOrEqual(5);
      expect(valueOf(fam, "xids_kernel_drops_by_reason_total", { reason: "3" })).toBe(kernelCounter(dp, "drop_reason_3"));
      expect(valueOf(fam, "xids_kernel_allowed_total")).toBeGreaterThanOrEqual(2);
      expect(fam.get("xids_kernel_pkts_seen_total")!.type).toBe("counter");
      expect(fam.get("xids_kernel_flows_live")!.type).toBe("gauge");
      // A late flow may be detected between the reads: bracketed too.
      expect(valueOf(fam, "xids_detections_total")).toBeGreaterThanOrEqual(detectionsBefore);
      expect(valueOf(fam, "xids_detections_total")).toBeLessThanOrEqual(agent.counters.detections);
      expect(valueOf(fam, "xids_blocks_total")).toBe(1);
      expect(valueOf(fam, "xids_blocks_skipped_allowed_total")).toBeGreaterThanOrEqual(skippedBefore); // the friend's late flow too
      expect(valueOf(fam, "xids_blocks_skipped_allowed_total")).toBeLessThanOrEqual(agent.counters.blocksSkippedAllowed);
      expect(valueOf(fam, "xids_flows_received_total")).toBeGreaterThanOrEqual(flowsBefore);
      expect(valueOf(fam, "xids_flows_received_total")).toBeLessThanOrEqual(agent.counters.flowsReceived);
      expect(valueOf(fam, "xids_blocked_hosts")).toBe(1);
      expect(valueOf(fam, "xids_ringbuf_lost_total")).toBe(0);
      expect(valueOf(fam, "xids_plugin_up", { plugin: "hook", kind: "responder" })).toBe(1);
      expect(valueOf(fam, "xids_model_version", { plugin: "port", model: "port" })).toBe(3);
      expect(valueOf(fam, "xids_model_updates_total")).toBe(0);
      // Responder counters: the hung webhook holds its deliveries; the alert log wrote each one.
      expect(valueOf(fam, "xids_responder_written_total", { plugin: "log" })).toBe(agent.counters.detections);
      expect(valueOf(fam, "xids_responder_delivered_total", { plugin: "hook" })).toBe(0);
      expect(valueOf(fam, "xids_responder_overflow_total", { plugin: "hook" })).toBe(0);
      // The Grafana dashboard is built on these metrics: every name it queries is served.
      const dash = JSON.parse(readFileSync(join(REPO, "core/observe/grafana-dashboard.json"), "utf8"));
      const used = new Set<string>(JSON.stringify(dash.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr))).match(/xids_[a-z_]+/g));
      expect(used.size).toBeGreaterThan(15);
      for (const name of used) expect([name, fam.has(name)]).toEqual([name, true]);

      // 5. The live page, rendered by Chromium: the numbers its script filled in are the agent's.
      if (!CHROMIUM) throw new Error("chromium is not installed: run scripts/setup.sh");
      await Bun.sleep(1_100); // one sample interval: the charts have two points
      const k0 = kernelCounter(dp, "pkts_seen");
      const dom = await chromium(url + "/", { dumpDom: true });
      const k1 = kernelCounter(dp, "pkts_seen");
      const num = (id: string) => Number(new RegExp(`id="${id}"[^>]*data-value="(\\d+)"`).exec(dom)?.[1] ?? NaN);
      expect(num("pkts_seen")).toBeGreaterThanOrEqual(k0);
      expect(num("pkts_seen")).toBeLessThanOrEqual(k1);
      expect(num("pkts_seen")).toBeGreaterThanOrEqual(11);
      expect(num("drop_blocked")).toBe(kernelCounter(dp, "drop_blocked"));
      expect(num("detections")).toBe(agent.counters.detections);
      expect(num("blocked_count")).toBe(1);
      // Reason 3 is pipeline.block.reason here: the page names it "detection".
      expect(dom).toMatch(new RegExp(`<td><a href="#" class="why" data-address="${ATTACKER.replace(/\./g, "\\.")}" [^>]*>${ATTACKER.replace(/\./g, "\\.")}</a></td><td>\\d+m \\d+s</td><td title="code 3">detection</td>`));
      expect(dom).toContain('id="model">port (port)<');
      expect(dom).toMatch(/class="muted" id="status">live, updated /);
      // The script polled more than once within the page's (virtual) time: it updates live.
      expect(Number(/<body data-updates="(\d+)"/.exec(dom)?.[1])).toBeGreaterThanOrEqual(2);
      expect(dom).toContain("<polyline");
      const png = dir.file("live.png");
      await chromium(url + "/", { screenshot: png });
      const bytes = readFileSync(png);
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(bytes.readUInt32BE(16)).toBe(1280); // IHDR width
      expect(statSync(png).size).toBeGreaterThan(20_000); // a rendered page, not a blank frame
      if (process.env.XIDS_KEEP_SCREENSHOT) Bun.write(process.env.XIDS_KEEP_SCREENSHOT, bytes);

      // 6. Manual correction through the control API: an allow-listed host cannot be blocked;
      // allowing a blocked host (a false positive) lifts its block and its packets pass again.
      const c = connectControl({ socket: dir.file("ctl.sock") });
      try {
        await expect(c.block(FRIEND, 60, 1)).rejects.toThrow(`FAILED_PRECONDITION: address: ${FRIEND} is on the allow list (${FRIEND}/32) and is never blocked; disallow it first`);
        expect((await c.allow(ATTACKER)).cidr).toBe(`${ATTACKER}/32`);
        expect((await c.listBlocked()).hosts).toEqual([]);
        const passed = kernelCounter(dp, "pkts_passed");
        const dropped = kernelCounter(dp, "drop_blocked");
        await send(ATTACKER, 80, 3);
        await waitFor("the corrected host's packets to pass", () => kernelCounter(dp, "pkts_passed") >= passed + 3, 5_000);
        expect(kernelCounter(dp, "drop_blocked")).toBe(dropped);

        // 7. Hot model updates are counted, failed ones too, and the version is exposed.
        await expect(c.pushModel(join(REPO, "models/artifacts/xgb"), "kernel-mlp")).rejects.toThrow("FAILED_PRECONDITION");
        const pushed = await c.pushModel(join(REPO, "models/artifacts/mlp-int32"), "kernel-mlp");
        expect(pushed.version).toBe(1);
        const fam2 = parseExposition(await (await fetch(`${url}/metrics`)).text());
        expect(valueOf(fam2, "xids_model_updates_total")).toBe(1);
        expect(valueOf(fam2, "xids_model_update_failures_total")).toBe(1);
        expect(valueOf(fam2, "xids_model_version", { plugin: "kernel-mlp", model: pushed.model })).toBe(1);
      } finally {
        c.close();
      }
    } finally {
      await agent.stop();
      dead.stop(true);
    }
  }, 60_000);
});
