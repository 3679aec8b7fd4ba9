// `xids watch` outlives agent restarts: a real `xids run` process (a capture replayed at its own
// pace, one flow record per packet, so events keep coming without a kernel) and a real `xids watch`
// process. The watch client is stopped (SIGSTOP) across a burst, so the agent drops events for it
// (LostEvents); then the agent is killed and restarted on the same socket. The client must say it
// dropped, retry, come back, print the time away as a gap, keep printing the new agent's events,
// and sum up what it missed when it exits.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../client/control.ts";
import { backoffDelay, WATCH_BACKOFF } from "../../client/reconnecting-watch.ts";
import { writePcap } from "../../plugins/extractors/xdp/pcap.ts";
import { udpFrame } from "../harness/packets.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "./util.ts";

const STEADY = 80; // one flow every 100 ms before the burst, and after it
const BURST = 3_000; // flows at one instant: far more than the client's queue and socket buffers hold
const AFTER = 300;

/** A capture of single-packet UDP flows: STEADY at 10/s, BURST at once, AFTER at 10/s (38 s in all). */
function writeCapture(path: string): void {
  const t0 = 1_700_000_000_000_000_000n;
  const ms = (x: number) => t0 + BigInt(Math.round(x * 1e6));
  const pkt = (t: bigint, sport: number) => ({ tsNs: t, data: udpFrame({ src: "198.18.0.1", dst: "198.18.0.2", sport, dport: 53 }) });
  const packets = [];
  for (let i = 0; i < STEADY; i++) packets.push(pkt(ms(i * 100), 10_000 + i));
  for (let i = 0; i < BURST; i++) packets.push(pkt(ms(STEADY * 100), 20_000 + i));
  for (let i = 0; i < AFTER; i++) packets.push(pkt(ms(STEADY * 100 + 100 + i * 100), 40_000 + i));
  writePcap(path, packets);
}

function agentConfig(dir: TempDir, sock: string, capture: string): string {
  const config = dir.file("xids.yaml");
  writeFileSync(
    config,
    `dataplane: { state_dir: ${dir.file("state")}, early_end_packets: 1 }  # every packet ends its flow
pipeline: { models: [], responders: [], batch_wait_ms: 1 }
plugins:
  - { id: capture, kind: extractor, builtin: pcap, config: { capture: "${capture}", pace: capture } }
control: { socket: ${sock} }
watch: { queue_size: 16 }
`,
  );
  return config;
}

type Line = { flow?: { srcPort: number }; lost?: { count: string | number; total: string | number }; gap?: { from: string; to: string; durationMs: number } };
const lines = (out: string): Line[] => out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);

async function startAgent(config: string, sock: string): Promise<Proc> {
  const agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
  const c = connectControl({ socket: sock, timeoutMs: 1_000 });
  try {
    await waitFor("the agent", async () => {
      if (agent.proc.exitCode !== null) throw new Error(`the agent exited with ${agent.proc.exitCode}`);
      return existsSync(sock) && (await c.status().catch(() => null))?.state === "running";
    }, 20_000, 50).catch((err) => {
      throw new Error(`${(err as Error).message}; agent log:\n${agent.err}`);
    });
  } finally {
    c.close();
  }
  return agent;
}

const flowsReceived = async (sock: string) => {
  const c = connectControl({ socket: sock, timeoutMs: 1_000 });
  try {
    return (await c.getStats()).flowsReceived;
  } finally {
    c.close();
  }
};

describe("xids watch across agent restarts", () => {
  test("backoff doubles from 0.2 s, is jittered by at most 20 % and never exceeds 5 s", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, WATCH_BACKOFF, () => 0.5))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(1, WATCH_BACKOFF, () => 0)).toBe(160);
    expect(backoffDelay(1, WATCH_BACKOFF, () => 0.999)).toBe(240);
    expect(backoffDelay(9, WATCH_BACKOFF, () => 0.999)).toBe(5_000);
  });

  test("lost events are summed, a kill and restart is a reported gap, and events keep coming after it", async () => {
    using dir = new TempDir();
    const sock = dir.file("ctl.sock");
    const capture = dir.file("steady.pcap");
    writeCapture(capture);
    const config = agentConfig(dir, sock, capture);
    let agent = await startAgent(config, sock);
    using watcher = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--flows", "--no-detections", "--json"], { env: { XIDS_CONTROL_SOCKET: sock } });
    try {
      await waitFor("flows on the watch client", () => lines(watcher.out).filter((l) => l.flow).length >= 3, 15_000);
      // A client that does not read: the agent must drop events for it, not wait.
      expect(await flowsReceived(sock)).toBeLessThan(STEADY); // the burst is still ahead
      watcher.proc.kill("SIGSTOP");
      await waitFor("the burst to pass", async () => (await flowsReceived(sock)) >= STEADY + BURST, 20_000, 100);
      watcher.proc.kill("SIGCONT");
      await waitFor("a lost-events message", () => lines(watcher.out).some((l) => l.lost), 10_000);

      const before = lines(watcher.out).filter((l) => l.flow);
      const lastPortBefore = before[before.length - 1]!.flow!.srcPort;
      const killedAt = Date.now();
      agent.proc.kill("SIGKILL");
      await agent.exited(5_000);
      await waitFor("the client to notice the drop and retry", () => /dropped .*; reconnecting\n[^]*retry 1 in \d+\.\ds/.test(watcher.err), 10_000);
      await Bun.sleep(1_500); // the agent stays down at least this long
      const restartAt = Date.now();
      agent[Symbol.dispose]();
      agent = await startAgent(config, sock);
      await waitFor("the gap and events after it", () => {
        const all = lines(watcher.out);
        const g = all.findIndex((l) => l.gap);
        return g >= 0 && all.slice(g).filter((l) => l.flow).length >= 3;
      }, 20_000);
      const gapSeenAt = Date.now();

      watcher.proc.kill("SIGINT");
      expect(await watcher.exited(5_000)).toBe(0);
      const all = lines(watcher.out);
      const gaps = all.filter((l) => l.gap).map((l) => l.gap!);
      expect(gaps).toHaveLength(1);
      const gap = gaps[0]!;
      const from = Date.parse(gap.from), to = Date.parse(gap.to);
      expect(to - from).toBe(gap.durationMs);
      expect(Math.abs(from - killedAt)).toBeLessThan(1_000); // it starts when the agent went away
      expect(gap.durationMs).toBeGreaterThanOrEqual(restartAt - killedAt - 200); // the whole time down, not less
      expect(to).toBeLessThanOrEqual(gapSeenAt);

      // After the gap: the new agent's records (its replay starts again from the first port).
      const after = all.slice(all.findIndex((l) => l.gap)).filter((l) => l.flow);
      expect(after[0]!.flow!.srcPort).toBeLessThan(lastPortBefore);
      expect(watcher.err).toMatch(/xids watch: reconnected to unix:\S+ after \d+\.\ds\n/);

      // Every LostEvents message counted, summed across connections, and in the exit summary.
      const lost = all.filter((l) => l.lost).map((l) => l.lost!);
      const sum = lost.reduce((n, l) => n + Number(l.count), 0);
      expect(sum).toBeGreaterThan(BURST / 2);
      const events = all.filter((l) => l.flow).length;
      expect(watcher.err).toContain(`xids watch: ${events} event(s) seen; ${sum} event(s) lost (this client read too slowly); 1 gap(s) without a connection, ${(gap.durationMs / 1000).toFixed(1)}s in all\n`);
    } finally {
      watcher.proc.kill("SIGCONT");
      agent.proc.kill("SIGTERM");
      await agent.exited(10_000);
    }
  }, 90_000);

  test("--no-reconnect exits 1 on a drop; Ctrl-C while reconnecting exits 0 and says what was not seen", async () => {
    using dir = new TempDir();
    const sock = dir.file("ctl.sock");
    const capture = dir.file("steady.pcap");
    writeCapture(capture);
    const agent = await startAgent(agentConfig(dir, sock, capture), sock);
    const env = { XIDS_CONTROL_SOCKET: sock };
    using once = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--flows", "--no-detections", "--no-reconnect"], { env });
    using keeps = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--flows", "--no-detections"], { env });
    using counted = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--flows", "--no-detections", "--count", "3"], { env });
    try {
      await waitFor("flows on the clients", () => /^flow 198\.18\.0\.1:\d+ -> 198\.18\.0\.2:53 proto 17/m.test(once.out) && keeps.out.includes("flow "), 15_000);
      expect(await counted.exited(10_000)).toBe(0); // --count still ends it, with nothing to report
      expect(counted.out.trim().split("\n")).toHaveLength(3);
      expect(counted.err).toBe("");
    } finally {
      agent.proc.kill("SIGKILL");
      await agent.exited(5_000);
    }
    expect(await once.exited(5_000)).toBe(1);
    expect(once.err).toMatch(/^xids watch: connection dropped: UNAVAILABLE/m);
    expect(once.err).not.toContain("retry");

    await waitFor("the retries", () => keeps.err.includes("retry 2 failed"), 10_000);
    keeps.proc.kill("SIGINT");
    expect(await keeps.exited(5_000)).toBe(0);
    expect(keeps.err).toMatch(/retry 1 failed: UNAVAILABLE: .*(ENOENT|ECONNREFUSED)/);
    expect(keeps.err).toMatch(/event\(s\) seen; stopped while disconnected \(since \S+, \d+\.\ds not seen\)\n$/);
  }, 60_000);

  test("no agent at start is an error at once, not a retry loop", async () => {
    using dir = new TempDir();
    const t0 = Date.now();
    using w = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--socket", dir.file("none.sock")]);
    expect(await w.exited(10_000)).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(w.err).toContain(`(is xids running? tried unix:${dir.file("none.sock")})`);
    expect(w.err).not.toContain("retry");
  });
});
