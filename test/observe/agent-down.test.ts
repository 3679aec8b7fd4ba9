// Protection does not wait for user space: with the agent SIGKILLed, a new nmap SYN scan from a
// source never seen before is still classified and blocked by the XDP program. The agent runs the
// shipped in-kernel MLP with the default block policy and dataplane.pin_dir set, so the maps and
// the XDP link are pinned and the program stays attached after the kill. While the agent is down
// the test reads the pinned block list and counters itself; the next `xids run` re-adopts the
// pins and lists the block the kernel made on its own.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl, type Control } from "../../client/control.ts";
import { SHIPPED_MLP } from "../../core/config/config.ts";
import { BlockKey, BlockVal, Counter, MAPS } from "../../core/ebpf/abi.ts";
import { formatIp } from "../../core/ebpf/addr.ts";
import { BpfMap, xdpQuery } from "../../native/index.ts";
import { PinDir } from "../harness/bpffs.ts";
import { twoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

const FIRST = "198.18.0.66"; // scans while the agent runs
const SECOND = "198.18.0.77"; // a new source, scanning only while the agent is down
/** A bounded SYN scan from `src` (nmap -S spoofs it; the client owns the address, so replies
 *  come back): timeout(1) and --host-timeout cap it. */
const nmap = (src: string, server: string, ports: string, rate: number) => [
  "timeout", "20", "nmap", "-sS", "-Pn", "-n", "-T4", "--max-retries", "1", "--max-rate", String(rate),
  "--host-timeout", "18s", "-e", "eth0", "-S", src, "-p", ports, server,
];

/** The pinned block list, decoded as DataPlane.blocks() does. */
function pinnedBlocks(pinDir: string) {
  const m = BpfMap.fromPin(join(pinDir, MAPS.blocklist));
  try {
    return [...m.entries()].map(([k, v]) => {
      const key = BlockKey.decode(k);
      const val = BlockVal.decode(v);
      return { addr: formatIp(key.family === 6 ? 6 : 4, key.addr), reason: val.reason, hits: val.hits, addedNs: val.added_ns };
    });
  } finally {
    m.close();
  }
}

/** One counter of the pinned per-CPU counters map (one block per CPU under key 0), summed over CPUs. */
function pinnedCounter(pinDir: string, idx: number): bigint {
  const m = BpfMap.fromPin(join(pinDir, MAPS.counters));
  try {
    return m.sumU64(new Uint8Array(4))?.[idx] ?? 0n;
  } finally {
    m.close();
  }
}

describe("agent down: the kernel still blocks new attackers", () => {
  test("SIGKILLed agent: a new nmap scan from a new source is blocked in the kernel while it is down", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("down");
    for (const a of [FIRST, SECOND]) hosts.client.execSync(["ip", "addr", "add", `${a}/24`, "dev", "eth0"]);
    const netns = hosts.server.path;
    const sock = dir.file("ctl.sock");
    const config = dir.file("xids.yaml");
    // The shipped model, the default block policy and timeouts; nothing about sweeping set.
    writeFileSync(
      config,
      `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, pin_dir: ${pins.path}, state_dir: ${dir.path} }
pipeline: { models: [kernel-mlp], responders: [xdp-drop] }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-mlp, kind: model, builtin: kernel, config: { artifact: "${SHIPPED_MLP}" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
control: { socket: ${sock} }
`,
    );
    const agent = () => new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const running = async () => {
      const c = connectControl({ socket: sock, timeoutMs: 2_000 });
      try {
        await waitFor("the agent to run", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      } catch (err) {
        c.close();
        throw err;
      }
      return c;
    };
    // nsenter execs timeout(1), which passes a SIGTERM on to nmap.
    const scans: ReturnType<typeof hosts.client.spawn>[] = [];
    const scan = (src: string, ports: string, rate: number) => {
      const p = hosts.client.spawn(nmap(src, hosts.serverIp, ports, rate));
      scans.push(p);
      return p;
    };
    let first: Proc | null = agent();
    let second: Proc | null = null;
    let c1: Control | null = null;
    let c2: Control | null = null;
    try {
      c1 = await running();
      expect(first.err).toContain("link pinned at");

      // While the agent runs, a scan gets its source blocked at all (else the test means nothing).
      const t1 = Date.now();
      const scan1 = scan(FIRST, "1-1500", 500);
      await waitFor(`${FIRST} blocked while the agent runs`, async () => (await c1!.listBlocked()).hosts.some((h) => h.address === FIRST), 15_000, 100);
      const firstBlockMs = Date.now() - t1;
      console.log(`first scan (${FIRST}): blocked ${firstBlockMs} ms after it started, agent running`);
      expect(pinnedBlocks(pins.path).map((b) => b.addr)).toEqual([FIRST]);
      scan1.kill("SIGTERM"); // the rest of it would only be dropped
      await scan1.exited;
      const prog = xdpQuery({ ifname: "eth0", netns }).progId;
      expect(prog).toBeGreaterThan(0);
      c1.close();
      c1 = null;

      // SIGKILL: the process is gone, the pinned link keeps the program attached.
      first.proc.kill("SIGKILL");
      expect(await first.exited(5_000)).not.toBe(0);
      expect(first.proc.signalCode).toBe("SIGKILL");
      first = null;
      expect(xdpQuery({ ifname: "eth0", netns }).progId).toBe(prog);

      // A new source scans while nobody is in user space.
      const dropsBefore = pinnedCounter(pins.path, Counter.drop_blocked);
      const t2 = Date.now();
      const scan2 = scan(SECOND, "1-5000", 400); // about 12 s of probes at this rate
      let seen: ReturnType<typeof pinnedBlocks> = [];
      const blocked = await waitFor(
        `${SECOND} in the pinned block list while the agent is down`,
        () => (seen = pinnedBlocks(pins.path)).find((b) => b.addr === SECOND) ?? null,
        15_000,
        100,
      ).catch((err: Error) => {
        const counters = Object.entries(Counter)
          .filter(([n]) => ["pkts_seen", "flows_started", "flows_ended", "records_emitted", "verdict_attack", "verdict_benign", "blocks_added", "drop_blocked"].includes(n))
          .map(([n, i]) => `${n}=${pinnedCounter(pins.path, i)}`)
          .join(" ");
        throw new Error(`${err.message}; pinned block list: ${JSON.stringify(seen.map((b) => b.addr))}; pinned counters: ${counters}`);
      });
      console.log(`second scan (${SECOND}): blocked in the kernel ${Date.now() - t2} ms after it started, agent down`);
      expect(blocked.reason).toBe(1); // pipeline.block.reason's default
      // Its packets are dropped: the scan's own, and a probe afterwards gets no answer.
      await waitFor("drops of the new source", () => pinnedCounter(pins.path, Counter.drop_blocked) > dropsBefore, 5_000, 100);
      const ping = await hosts.client.exec(["ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", SECOND, hosts.serverIp], { timeoutMs: 10_000, allowFail: true });
      expect(ping.code).not.toBe(0);
      expect(pinnedBlocks(pins.path).find((b) => b.addr === SECOND)!.hits).toBeGreaterThan(0n);
      scan2.kill("SIGTERM");
      await scan2.exited;

      // The next agent re-adopts the pins and reports the block the kernel made without it.
      second = agent();
      c2 = await running();
      expect(second.err).toMatch(/XDP link on eth0 \(netns \S+\) re-adopted from \S+link_eth0 \(native mode\); program replaced in place/);
      const listed = (await c2.listBlocked()).hosts.map((h) => h.address).sort();
      expect(listed).toEqual([FIRST, SECOND]);
      c2.close();
      c2 = null;
      second.proc.kill("SIGTERM");
      expect(await second.exited(15_000)).toBe(0);
      second = null;
      expect(xdpQuery({ ifname: "eth0", netns }).progId).toBe(0);
    } finally {
      c1?.close();
      c2?.close();
      for (const p of [first, second]) {
        if (p && p.proc.exitCode === null && p.proc.signalCode === null) {
          p.proc.kill("SIGTERM");
          await p.exited(5_000);
        }
      }
      for (const p of scans) {
        p.kill("SIGTERM");
        await p.exited;
      }
      // PinDir removes the map pins and a link pin left behind (which detaches the program).
    }
  }, 60_000);
});
