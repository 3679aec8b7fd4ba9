// Reload without a gap: a real `xids run` (native XDP on a veth in a namespace of its own, a
// one-split tree in the kernel) gets SIGHUP with a changed allow list and a changed alert log
// while a blocked source floods it. The kernel's drop counter brackets the reload: every packet
// the blocked source sent is dropped, and the program in the link is the same one before and
// after. The new allow list and responder apply (seen in the kernel's own verdict records), what
// cannot change live is named, a bad config is refused with its reason and changes nothing, and a
// reload reopens the alert log after a rotation.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../client/control.ts";
import { xdpQuery } from "../../native/index.ts";
import { twoHosts } from "../harness/netns.ts";
import { attackTree } from "../harness/port-tree.ts";
import { BUN, Proc, REPO, TempDir, waitFor, xids } from "./util.ts";

const BLOCKED = "198.18.0.50"; // blocked by hand, floods through the reload
const ALLOW_OLD = "198.18.0.60"; // allowed before the reload only
const ALLOW_NEW = "198.18.0.70"; // allowed after it only
const ATTACKERS = ["198.18.0.81", "198.18.0.82", "198.18.0.83", "198.18.0.84", "198.18.0.85"];
const FLOOD = 1000; // datagrams, one every 2 ms (udp-send.ts's bound)

interface Alert {
  src_ip: string;
  action: { type: string; allow?: string };
}

function alerts(path: string): Alert[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Alert);
}

describe("reload", () => {
  test("SIGHUP under a flood from a blocked source: nothing passes, new allow list and responder apply, a bad config changes nothing", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    for (const a of [BLOCKED, ALLOW_OLD, ALLOW_NEW, ...ATTACKERS]) hosts.client.execSync(["ip", "addr", "add", `${a}/24`, "dev", "eth0"]);
    const sock = dir.file("control.sock");
    const tree = attackTree(dir.path);
    const configFile = dir.file("xids.yaml");
    const writeConfig = (o: { allow: string; alerts: string; ttl: number; watchQueue: number }) =>
      writeFileSync(
        configFile,
        `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, idle_timeout_ms: 300, state_dir: ${dir.path} }
pipeline:
  models: [kernel-tree]
  responders: [xdp-drop, alert-log]
  block: { ttl_seconds: ${o.ttl}, min_attacks: 1, min_attack_pct: 0 }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-tree, kind: model, builtin: kernel, config: { artifact: "${tree}" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
  - { id: alert-log, kind: responder, builtin: alert-log, config: { path: "${o.alerts}" } }
allow: [${o.allow}]
control: { socket: ${sock} }
watch: { queue_size: ${o.watchQueue} }
`,
      );
    const [log1, log2] = [dir.file("alerts-1.jsonl"), dir.file("alerts-2.jsonl")];
    writeConfig({ allow: `${ALLOW_OLD}/32`, alerts: log1, ttl: 300, watchQueue: 1024 });
    using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", configFile]);
    const c = connectControl({ socket: sock, timeoutMs: 5_000 });
    // One attack flow from `src`: a datagram to a port the tree calls an attack (a new flow each time).
    let port = 5000;
    const attack = (src: string) => hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, hosts.serverIp, String(port++), "1"], { timeoutMs: 10_000 });
    const alertOf = (path: string, src: string) => waitFor(`an alert from ${src} in ${path}`, () => alerts(path).find((a) => a.src_ip === src), 10_000, 50);
    const dropped = async () => (await c.getStats()).dataplane.drop_blocked ?? 0;
    // A source's second flow is blocked (its first is one packet: maybe spoofed); the TTL the kernel gave it.
    const kernelTtlMs = async (src: string) => {
      await attack(src);
      await attack(src);
      return (await waitFor(`a block of ${src}`, async () => (await c.listBlocked()).hosts.find((h) => h.address === src), 10_000, 50)).expiresInMs;
    };
    try {
      await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      await c.block(BLOCKED, 0, 2);
      // Before: the old allow list is in the kernel, the alerts go to the first file.
      await attack(ALLOW_OLD);
      expect((await alertOf(log1, ALLOW_OLD)).action).toEqual({ type: "allowed", allow: `${ALLOW_OLD}/32` });
      const ttlBefore = await kernelTtlMs(ATTACKERS[3]!);
      expect(ttlBefore).toBeGreaterThan(290_000);
      expect(ttlBefore).toBeLessThanOrEqual(300_000);
      const prog = xdpQuery({ ifname: "eth0", netns: hosts.server.path });
      expect(prog.mode).toBe("native");

      // The reload, while the blocked source floods.
      writeConfig({ allow: `${ALLOW_NEW}/32`, alerts: log2, ttl: 600, watchQueue: 2048 });
      const before = await dropped();
      let floodDone = false;
      const flood = hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), BLOCKED, hosts.serverIp, "53", String(FLOOD)], { timeoutMs: 30_000 }).finally(() => (floodDone = true));
      await waitFor("the flood to reach the data plane", async () => (await dropped()) > before, 10_000, 10);
      process.kill(agent.pid, "SIGHUP");
      await waitFor("the reload's log line", () => /reloaded: /.test(agent.err), 10_000, 10);
      const duringFlood = !floodDone;
      await flood;
      expect(duringFlood).toBe(true); // the reload ran while the packets came
      await waitFor("every datagram counted", async () => (await dropped()) - before >= FLOOD, 5_000, 50);
      expect((await dropped()) - before).toBe(FLOOD);
      expect((await c.listBlocked()).hosts.find((h) => h.address === BLOCKED)?.hits).toBe(FLOOD);
      expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).progId).toBe(prog.progId);
      expect(agent.err).toContain(
        `reloaded: applied [plugins.alert-log: restarted with its new settings; allow: +${ALLOW_NEW}/32; allow: -${ALLOW_OLD}/32; pipeline.block.ttl_seconds: 600]; needs a restart to take effect: [watch.queue_size]`,
      );
      // The kernel's block settings changed in place: its next block has the new TTL.
      expect(await kernelTtlMs(ATTACKERS[1]!)).toBeGreaterThan(590_000);

      // After: the kernel judges by the new allow list, the alerts go to the new file.
      await attack(ALLOW_NEW);
      expect((await alertOf(log2, ALLOW_NEW)).action).toEqual({ type: "allowed", allow: `${ALLOW_NEW}/32` });
      await attack(ALLOW_OLD);
      expect((await alertOf(log2, ALLOW_OLD)).action.type).not.toBe("allowed");
      expect(alerts(log1).map((a) => a.src_ip)).toEqual([ALLOW_OLD, ATTACKERS[3]!, ATTACKERS[3]!]); // all from before the reload
      expect((await c.status()).state).toBe("running");

      // A config that fails its check: refused with the reason (SIGHUP and the control call), nothing changes.
      const good = readFileSync(configFile, "utf8");
      writeFileSync(configFile, good.replace(`allow: [${ALLOW_NEW}/32]`, "allow: [198.18.0.300/32]").replace(log2, dir.file("alerts-3.jsonl")));
      process.kill(agent.pid, "SIGHUP");
      await waitFor("the refusal in the log", () => /reload refused: /.test(agent.err), 10_000, 10);
      expect(agent.err).toMatch(/reload refused: invalid configuration .*\n.*allow\[0\]: expected an IPv4\/IPv6 CIDR.*; nothing was changed\n/);
      const cli = await xids(["reload", "--socket", sock]);
      expect([cli.code, cli.out]).toEqual([1, ""]);
      expect(cli.err).toMatch(/^xids reload: refused: invalid configuration .*\n.*allow\[0\]: expected an IPv4\/IPv6 CIDR/);
      const refused = await c.reload();
      expect(refused.applied).toEqual([]);
      expect(refused.error).toContain(`${configFile}:`);
      expect(refused.error).toContain("allow[0]: expected an IPv4/IPv6 CIDR");
      // One that passes the check but whose new alert log cannot start: refused, the allow change not applied.
      writeFileSync(configFile, good.replace(`allow: [${ALLOW_NEW}/32]`, `allow: [${ATTACKERS[4]}/32]`).replace(log2, "/nonexistent-xids-dir/alerts.jsonl"));
      const failed = await c.reload();
      expect(failed.error).toMatch(/^plugin "alert-log" did not start with its new settings: ENOENT/);
      await attack(ALLOW_NEW);
      await attack(ATTACKERS[4]!);
      await alertOf(log2, ATTACKERS[4]!);
      const latest = alerts(log2);
      expect(latest.filter((a) => a.src_ip === ALLOW_NEW).map((a) => a.action.type)).toEqual(["allowed", "allowed"]);
      expect(latest.find((a) => a.src_ip === ATTACKERS[4])!.action.type).not.toBe("allowed");
      expect(existsSync(dir.file("alerts-3.jsonl"))).toBe(false);

      // Log rotation: the renamed file keeps what it had; after a reload the path is written anew.
      writeFileSync(configFile, good);
      renameSync(log2, `${log2}.1`);
      const rotated = await xids(["reload", "--socket", sock]);
      expect(rotated).toEqual({ code: 0, out: "applied:\n  plugins.alert-log: reopened its files\nneeds a restart to take effect:\n  watch.queue_size\n", err: "" });
      await attack(ATTACKERS[0]!);
      await alertOf(log2, ATTACKERS[0]!);
      expect(alerts(log2).map((a) => a.src_ip)).toEqual([ATTACKERS[0]!]);
      expect(alerts(`${log2}.1`).length).toBe(latest.length);
      // No detection was lost to a responder being swapped or reopened.
      expect((await c.getStats()).responderErrors).toBe(0);
      expect((await c.status()).plugins.map((p) => [p.id, p.state])).toEqual([["xdp", "running"], ["kernel-tree", "running"], ["xdp-drop", "running"], ["alert-log", "running"]]);
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      expect(await agent.exited(10_000)).toBe(0);
    }
  }, 90_000);
});
