// Block state survives a killed agent: `xids run` with dataplane.pin_dir pins its state maps and
// its XDP link. SIGKILL it during an attack: the program stays attached and keeps dropping the
// blocked source; the next `xids run` re-adopts the pinned maps and link (the program is swapped
// in place, nothing attached twice) and reports the same block list. A clean stop then detaches
// and unpins the link; the test removes the map pins. Model versions continue across restarts
// too (second test).
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { twoHosts } from "../harness/netns.ts";
import { PinDir } from "../harness/bpffs.ts";
import { connectControl } from "../../client/control.ts";
import { xdpQuery } from "../../native/index.ts";
import { execSync } from "../harness/exec.ts";
import { Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

const ATTACKER = "198.18.0.66";
const PERMANENT = "198.18.0.99";
const BENIGN = "198.18.0.1";
const PORT = 5555;

describe("restart: block state survives SIGKILL", () => {
  test("the attack stays blocked while the agent is dead and after it restarts; same block list", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("restart");
    hosts.client.execSync(["ip", "addr", "add", `${ATTACKER}/24`, "dev", "eth0"]);
    const sock = dir.file("ctl.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane:
  interfaces: [eth0]
  netns: ${hosts.server.name}
  pin_dir: ${pins.path}
  state_dir: ${dir.file("state")}
  sweep_interval_ms: 200
pipeline: { models: [kernel-mlp], responders: [xdp-drop] }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-mlp, kind: model, builtin: kernel, config: { artifact: "" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
control: { socket: ${sock} }
`,
    );
    const netns = hosts.server.path;
    const running = async () => {
      const c = connectControl({ socket: sock, timeoutMs: 2_000 });
      try {
        await waitFor("the core to run", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      } catch (err) {
        c.close();
        throw err;
      }
      return c;
    };
    const agent = () => new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const send = (src: string, count: number) =>
      hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, hosts.serverIp, String(PORT), String(count)], { timeoutMs: 20_000 });
    // The protected host counts what actually reaches it.
    const receiver = hosts.server.spawn([BUN, join(REPO, "test/observe/udp-count.ts"), String(PORT), "15000"]);
    let first: Proc | null = agent();
    let second: Proc | null = null;
    let third: Proc | null = null;
    let c2: ReturnType<typeof connectControl> | null = null;
    try {
      const c1 = await running();
      await c1.block(ATTACKER, 300, 4);
      await c1.block(PERMANENT, 0, 2);
      const before = (await c1.listBlocked()).hosts;
      expect(before.map((h) => [h.address, h.reason])).toEqual([
        [ATTACKER, 4],
        [PERMANENT, 2],
      ]);
      const progBefore = xdpQuery({ ifname: "eth0", netns }).progId;
      c1.close();
      expect(readdirSync(pins.path).sort()).toContain("link_eth0");

      // The attack starts; the agent is killed in the middle of it.
      const attack = send(ATTACKER, 600);
      await Bun.sleep(300);
      first.proc.kill("SIGKILL");
      expect(await first.exited(5_000)).not.toBe(0);
      first = null;
      // Dead agent, program still attached through the pinned link.
      expect(xdpQuery({ ifname: "eth0", netns }).progId).toBe(progBefore);
      await send(BENIGN, 5);
      expect((await attack).code).toBe(0);

      // Restart: the pinned link and maps are taken over; the same hosts are blocked.
      const t0 = Date.now();
      second = agent();
      c2 = await running();
      expect(second.err).toMatch(/XDP link on eth0 \(netns \S+\) re-adopted from \S+link_eth0 \(native mode\); program replaced in place/);
      const st = await c2.status();
      expect([st.interface, st.xdpMode]).toEqual(["eth0", "native"]);
      const progAfter = xdpQuery({ ifname: "eth0", netns });
      expect(progAfter.mode).toBe("native");
      expect(progAfter.progId).not.toBe(progBefore); // our new program, in the same link
      // Nothing doubled: one link runs the new program, none the old one, which is gone.
      const links = JSON.parse(execSync(["bpftool", "link", "show", "-j"]).stdout) as { type: string; prog_id: number }[];
      expect(links.filter((l) => l.prog_id === progAfter.progId).map((l) => l.type)).toEqual(["xdp"]);
      expect(links.filter((l) => l.prog_id === progBefore)).toEqual([]);
      await waitFor("the old program to be freed", () => execSync(["bpftool", "prog", "show", "id", String(progBefore)], { allowFail: true }).code !== 0, 5_000);
      const after = (await c2.listBlocked()).hosts;
      expect(after.map((h) => [h.address, h.reason])).toEqual(before.map((h) => [h.address, h.reason]));
      const ttlBefore = before[0]!.expiresInMs;
      const ttlAfter = after[0]!.expiresInMs;
      // The TTL kept running (not reset, not doubled): at most the elapsed time less, never more.
      expect(ttlAfter).toBeLessThanOrEqual(ttlBefore);
      expect(ttlAfter).toBeGreaterThan(ttlBefore - (Date.now() - t0) - 15_000);
      expect(after[1]!.expiresInMs).toBe(0);
      // The counters are pinned too: every attack packet, sent before, during and after the
      // restart, was dropped.
      await send(ATTACKER, 5);
      const stats = await waitFor("all attack packets dropped", async () => {
        const s = await c2!.getStats();
        return (s.dataplane.drop_blocked ?? 0) >= 605 ? s : null;
      }, 5_000);
      expect(stats.dataplane.drop_reason_4).toBe(stats.dataplane.drop_blocked);
      expect(after[0]!.hits).toBeGreaterThanOrEqual(600);

      // Clean stop: the link is detached and unpinned; the map pins stay for the next run.
      second.proc.kill("SIGTERM");
      expect(await second.exited(15_000)).toBe(0);
      second = null;
      expect(xdpQuery({ ifname: "eth0", netns }).progId).toBe(0);
      const left = readdirSync(pins.path);
      expect(left).not.toContain("link_eth0");
      expect(left).toContain("blocklist");

      // A run whose configuration allows a source the pinned block list holds: the start-up
      // allow lifts its block (the kernel's drop path never consults the allow list, so an
      // allowed source must not stay in the block list); the other block stays.
      writeFileSync(config, `${readFileSync(config, "utf8")}allow: ["${PERMANENT}/32"]\n`);
      third = agent();
      const c3 = await running();
      try {
        expect((await c3.listBlocked()).hosts.map((h) => h.address)).toEqual([ATTACKER]);
        expect(third.err).toContain(`allow ${PERMANENT}/32: block of ${PERMANENT} lifted`);
      } finally {
        c3.close();
      }
      third.proc.kill("SIGTERM");
      expect(await third.exited(15_000)).toBe(0);
      third = null;

      receiver.kill("SIGTERM");
      const got = JSON.parse((await new Response(receiver.stdout).text()) || "{}") as Record<string, number>;
      expect(got[ATTACKER] ?? 0).toBe(0);
      expect(got[BENIGN]).toBe(5);
    } finally {
      c2?.close();
      for (const p of [first, second, third]) {
        if (p && p.proc.exitCode === null && p.proc.signalCode === null) {
          p.proc.kill("SIGTERM");
          await p.exited(5_000);
        }
      }
      receiver.kill("SIGKILL");
      // PinDir removes the map pins and any link pin left after a failure (which detaches it).
    }
  }, 60_000);
});

// Model versions keep increasing across restarts: every push gets a version the flow records it
// classifies carry (and the alert log reports), so a version must never name two models. The
// model loaded at start of each run gets a version above every one the previous run used, after a
// SIGKILL as after a clean stop; the counter lives in dataplane.state_dir (bpffs holds only BPF
// objects, and the classifier's maps are not among the pinned ones).
describe("restart: model versions keep increasing", () => {
  test("after SIGKILL and after a clean stop the model loaded at start gets a new version; flow records carry it", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("mver");
    const sock = dir.file("ctl.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane:
  interfaces: [eth0]
  netns: ${hosts.server.name}
  pin_dir: ${pins.path}
  state_dir: ${dir.file("state")}
  early_end_packets: 1
  sweep_interval_ms: 100
pipeline: { models: [kernel-mlp], responders: [], block: { enabled: false } }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-mlp, kind: model, builtin: kernel, config: { artifact: ${join(REPO, "models/artifacts/mlp-int32")} } }
control: { socket: ${sock} }
`,
    );
    let port = 6000;
    const start = async () => {
      const p = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
      const c = connectControl({ socket: sock, timeoutMs: 5_000 });
      try {
        await waitFor("the core to run", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      } catch (err) {
        c.close();
        p.proc.kill("SIGKILL");
        throw new Error(`${(err as Error).message}\n${p.err}`);
      }
      return { p, c };
    };
    /** The model version in the record of a new flow (one datagram: early_end_packets 1). */
    const flowVersion = async (c: ReturnType<typeof connectControl>) => {
      const dport = port++;
      const seen: number[] = [];
      const stream = c.watch({ detections: false, flows: true }, (ev) => {
        const f = ev.event?.$case === "flow" ? ev.event.value : null;
        if (f && f.dstPort === dport && f.kernelVerdict !== Verdict.VERDICT_NONE) seen.push(f.modelVersion);
      }, () => {});
      try {
        await waitFor("the watch client", async () => (await c.getStats()).watchClients === 1, 5_000);
        await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), hosts.clientIp, hosts.serverIp, String(dport), "1"], { timeoutMs: 10_000 });
        await waitFor(`the kernel-classified record of the flow to port ${dport}`, () => seen.length > 0, 10_000);
        return seen[0]!;
      } finally {
        stream.cancel();
        await waitFor("the watch client to go", async () => (await c.getStats()).watchClients === 0, 5_000);
      }
    };
    const procs: Proc[] = [];
    const clients: ReturnType<typeof connectControl>[] = [];
    try {
      // Run 1: the artifact at start is version 1, a push version 2.
      const r1 = await start();
      procs.push(r1.p), clients.push(r1.c);
      expect((await r1.c.status()).modelVersion).toBe(1);
      expect(await flowVersion(r1.c)).toBe(1);
      expect((await r1.c.pushModel(join(REPO, "models/artifacts/dt"), "kernel-mlp")).version).toBe(2);
      expect(await flowVersion(r1.c)).toBe(2);
      r1.p.proc.kill("SIGKILL");
      expect(await r1.p.exited(5_000)).not.toBe(0);

      // Run 2, after the crash: the artifact loaded at start is version 3, never 1 again.
      const r2 = await start();
      procs.push(r2.p), clients.push(r2.c);
      expect(r2.p.err).toContain("loaded mlp-int32:mlp-int32 as version 3");
      expect((await r2.c.status()).modelVersion).toBe(3);
      expect(await flowVersion(r2.c)).toBe(3);
      expect((await r2.c.pushModel(join(REPO, "models/artifacts/dt"), "kernel-mlp")).version).toBe(4);
      expect(await flowVersion(r2.c)).toBe(4);
      r2.p.proc.kill("SIGTERM");
      expect(await r2.p.exited(15_000)).toBe(0);

      // Run 3, after a clean stop: version 5.
      const r3 = await start();
      procs.push(r3.p), clients.push(r3.c);
      expect((await r3.c.status()).modelVersion).toBe(5);
      expect(await flowVersion(r3.c)).toBe(5);
      r3.p.proc.kill("SIGTERM");
      expect(await r3.p.exited(15_000)).toBe(0);
      const statePath = join(dir.file("state"), "model-version-kernel-mlp.json");
      expect(JSON.parse(readFileSync(statePath, "utf8"))).toMatchObject({ version: 5, model: "mlp-int32:mlp-int32" });

      // A state that cannot be read stops the start with the path and the reason: never back to 1.
      writeFileSync(statePath, "{\"version\": 5");
      const bad = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
      procs.push(bad);
      expect(await bad.exited(15_000)).not.toBe(0);
      expect(bad.proc.signalCode).toBeNull();
      expect(bad.err).toContain(`model version state ${statePath} is not JSON`);
      expect(bad.err).toContain('plugin "kernel-mlp" failed to start');
      expect(bad.err).not.toContain("as version 1");
      expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).progId).toBe(0); // the failed start took back its attachment
    } finally {
      for (const c of clients) c.close();
      for (const p of procs) {
        if (p.proc.exitCode === null && p.proc.signalCode === null) {
          p.proc.kill("SIGTERM");
          await p.exited(10_000);
        }
      }
    }
  }, 90_000);
});
