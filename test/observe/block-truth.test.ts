// The truth in every detection: what a detection says was done about its source (the alert log's
// action, which Watch, the webhook and the live page repeat) is what the kernel's block list holds
// after the in-kernel decision. A real agent on a veth pair runs a one-split tree in the kernel
// (UDP to port >= 1000 is an attack), and real datagrams exercise each outcome: the policy's
// "not yet", a block, an allow-listed source, an address of this host, and a block list filled
// past its capacity, under both stated full policies.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl, type Control } from "../../client/control.ts";
import { twoHosts, type TwoHosts } from "../harness/netns.ts";
import { attackTree } from "../harness/port-tree.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

const ATTACK_PORT = 5000; // the tree calls UDP to ports >= 1000 an attack
const ALLOWED = "198.18.0.110";
const SHARED = "198.18.0.120"; // on both ends: arriving at the server, it is one of its own
const FILLERS = Array.from({ length: 18 }, (_, i) => `198.18.1.${i + 1}`);
const LATE = "198.18.2.1"; // a real attacker arriving once the list is full
const CAPACITY = 16; // the smallest block list the configuration takes

interface Alert {
  src_ip: string;
  action: { type: string; ttl_seconds?: number; reason?: string; error?: string; allow?: string };
}

class Agent {
  readonly proc: Proc;
  readonly c: Control;
  readonly alerts: string;
  readonly sock: string;

  constructor(readonly hosts: TwoHosts, dir: TempDir, whenFull: string) {
    const sock = (this.sock = dir.file(`${whenFull}.sock`));
    this.alerts = dir.file(`${whenFull}-alerts.jsonl`);
    const config = dir.file(`${whenFull}.yaml`);
    writeFileSync(
      config,
      `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, idle_timeout_ms: 300, block_entries: ${CAPACITY}, state_dir: ${dir.path} }
pipeline:
  models: [kernel-tree]
  responders: [xdp-drop, alert-log]
  block: { ttl_seconds: 300, min_attacks: 2, min_attack_pct: 0, window_seconds: 60, when_full: ${whenFull} }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-tree, kind: model, builtin: kernel, config: { artifact: "${attackTree(dir.path)}" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
  - { id: alert-log, kind: responder, builtin: alert-log, config: { path: ${this.alerts} } }
allow: [${ALLOWED}/32]
control: { socket: ${sock} }
`,
    );
    this.proc = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    this.c = connectControl({ socket: sock, timeoutMs: 2_000 });
  }

  async ready(): Promise<void> {
    await waitFor("the agent", async () => existsSync(this.sock) && (await this.c.status()).state === "running", 20_000, 50);
  }

  /** One attack flow from `src` (a datagram to its own port, so each call is a new flow). */
  async attackFlow(src: string, n: number): Promise<void> {
    await this.hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, this.hosts.serverIp, String(ATTACK_PORT + n), "1"], { timeoutMs: 10_000 });
  }

  alertsFrom(src: string): Alert[] {
    if (!existsSync(this.alerts)) return [];
    return readFileSync(this.alerts, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Alert).filter((a) => a.src_ip === src);
  }

  /** Waits for the n-th alert of `src` (flows end on the 300 ms idle timeout). */
  async nthAlert(src: string, n: number): Promise<Alert> {
    await waitFor(`alert ${n} from ${src}`, async () => this.alertsFrom(src).length >= n, 10_000, 50);
    return this.alertsFrom(src)[n - 1]!;
  }

  async blocked(): Promise<string[]> {
    return (await this.c.listBlocked()).hosts.map((b) => b.address);
  }

  async stop(): Promise<void> {
    this.c.close();
    this.proc.proc.kill("SIGTERM");
    await this.proc.exited(10_000);
  }
}

function withAddresses(hosts: TwoHosts): void {
  for (const a of [ALLOWED, SHARED, LATE, ...FILLERS]) hosts.client.execSync(["ip", "addr", "add", `${a}/15`, "dev", "eth0"]);
  hosts.server.execSync(["ip", "addr", "add", `${SHARED}/32`, "dev", "eth0"]);
}

describe("every detection reports what the kernel's block list holds", () => {
  test("not yet, blocked, allow-listed, this host's own address, and a full list that refuses", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    withAddresses(hosts);
    const agent = new Agent(hosts, dir, "refuse");
    try {
      await agent.ready();
      const S1 = FILLERS[0]!;
      // Policy not yet: one attack verdict of the two it needs; the source is not in the list.
      await agent.attackFlow(S1, 0);
      expect((await agent.nthAlert(S1, 1)).action).toEqual({ type: "not-yet", reason: "1 of 2 attack verdicts (at least 0 % of the source's) in 60 s: not blocked yet" });
      expect(await agent.blocked()).not.toContain(S1);
      // The second: blocked, with the TTL, and the list holds it.
      await agent.attackFlow(S1, 1);
      expect((await agent.nthAlert(S1, 2)).action).toEqual({ type: "kernel-blocked", ttl_seconds: 300 });
      expect(await agent.blocked()).toContain(S1);

      // Allow-listed: reported as such, never in the list.
      for (let i = 0; i < 3; i++) await agent.attackFlow(ALLOWED, i);
      expect((await agent.nthAlert(ALLOWED, 3)).action).toEqual({ type: "allowed", allow: `${ALLOWED}/32` });
      expect(agent.alertsFrom(ALLOWED).map((a) => a.action.type)).toEqual(["allowed", "allowed", "allowed"]);
      // An address of this host (spoofed, or a misrouted packet of its own): never blocked.
      for (let i = 0; i < 3; i++) await agent.attackFlow(SHARED, i);
      await agent.nthAlert(SHARED, 3);
      for (const a of agent.alertsFrom(SHARED)) expect(a.action).toEqual({ type: "refused", reason: `${SHARED} is an address of this host` });
      expect(await agent.blocked()).not.toContain(SHARED);

      // Fill past capacity: every source that the policy blocks while there is room is in the
      // list; once it is full each block fails, says why, and the list keeps what it had.
      for (const src of FILLERS.slice(1)) for (let i = 0; i < 2; i++) await agent.attackFlow(src, i);
      for (const src of FILLERS.slice(1)) await agent.nthAlert(src, 2);
      const list = await agent.blocked();
      expect(list.length).toBe(CAPACITY);
      for (const src of FILLERS) {
        const last = agent.alertsFrom(src).at(-1)!;
        if (list.includes(src)) expect(last.action).toEqual({ type: "kernel-blocked", ttl_seconds: 300 });
        else expect(last.action).toEqual({ type: "failed", error: `the kernel's block list refused ${src}: the block list is full (E2BIG; dataplane.block_entries, pipeline.block.when_full)` });
      }
      expect(FILLERS.filter((s) => !list.includes(s)).length).toBe(FILLERS.length - CAPACITY);
      // A real attacker after that: not blocked, and the alert tells the operator why.
      for (let i = 0; i < 2; i++) await agent.attackFlow(LATE, i);
      expect((await agent.nthAlert(LATE, 2)).action.type).toBe("failed");
      expect(await agent.blocked()).not.toContain(LATE);
      const stats = (await agent.c.getStats()).dataplane;
      expect(stats.block_failed).toBe(FILLERS.length - CAPACITY + 1);
      expect(stats.blocklist_entries).toBe(CAPACITY);
      expect(stats.blocklist_capacity).toBe(CAPACITY);
      await waitFor("the refusals in the log", async () => agent.proc.err.includes("block(s) the kernel's block list refused"), 5_000);
      expect(agent.proc.err).toContain(`block list ${CAPACITY} of ${CAPACITY} entries`);
    } finally {
      await agent.stop();
    }
  }, 120_000);

  test("a full list with when_full: evict-soonest makes room for a new attacker, counted and reported", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    withAddresses(hosts);
    const agent = new Agent(hosts, dir, "evict-soonest");
    try {
      await agent.ready();
      // One filler at a time: each block has its own expiry (blocks decided in the same sweep
      // round would share one, and which of those goes first is the hash table's order).
      for (const src of FILLERS) {
        for (let i = 0; i < 2; i++) await agent.attackFlow(src, i);
        await agent.nthAlert(src, 2);
      }
      // Every filler was blocked when its decision came; the oldest went to make room.
      for (const src of FILLERS) expect(agent.alertsFrom(src)[1]!.action).toEqual({ type: "kernel-blocked", ttl_seconds: 300 });
      for (let i = 0; i < 2; i++) await agent.attackFlow(LATE, i);
      expect((await agent.nthAlert(LATE, 2)).action).toEqual({ type: "kernel-blocked", ttl_seconds: 300 });
      const list = await agent.blocked();
      expect(list.length).toBe(CAPACITY);
      expect(list).toContain(LATE);
      // Evicted: the ones closest to expiry, i.e. blocked first.
      expect(list.filter((a) => FILLERS.slice(0, 3).includes(a))).toEqual([]);
      const stats = (await agent.c.getStats()).dataplane;
      expect(stats.block_evicted).toBe(FILLERS.length + 1 - CAPACITY);
      expect(stats.block_failed ?? 0).toBe(0);
      await waitFor("the evictions in the log", async () => agent.proc.err.includes("evicted to make room"), 5_000);
    } finally {
      await agent.stop();
    }
  }, 120_000);
});
