// A random-source SYN flood (every SYN from another address, as hping3 --rand-source) against a
// real agent running the shipped in-kernel model with the first-attack policy, the setting that
// used to fill the block list with spoofed addresses in seconds. Either the lone-packet rule keeps
// them out, or (lone_packet_sources on) the list fills, its full policy holds, it says so, and a
// real scanner arriving afterwards is still blocked. With the per-destination SYN limit, most of
// the flood never makes a flow at all.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl, type Control } from "../../client/control.ts";
import { SHIPPED_MLP } from "../../core/config/config.ts";
import { twoHosts, type TwoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

const SCANNER = "198.18.0.66";
const SPOOFED = 3_000;
const CAPACITY = 64;

async function startAgent(hosts: TwoHosts, dir: TempDir, block: string, dataplane = ""): Promise<{ proc: Proc; c: Control }> {
  const sock = dir.file("ctl.sock");
  const config = dir.file("xids.yaml");
  writeFileSync(
    config,
    `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, block_entries: ${CAPACITY}, state_dir: ${dir.path}${dataplane ? `, ${dataplane}` : ""} }
pipeline:
  models: [kernel-mlp]
  responders: [xdp-drop]
  block: { min_attacks: 1, min_attack_pct: 0, ${block} }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-mlp, kind: model, builtin: kernel, config: { artifact: "${SHIPPED_MLP}" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
control: { socket: ${sock} }
`,
  );
  const proc = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
  const c = connectControl({ socket: sock, timeoutMs: 2_000 });
  await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
  return { proc, c };
}

/** A fresh pair of hosts with the scanner's address, an agent on them, and `body`; then a clean stop. */
async function withAgent(block: string, dataplane: string, body: (hosts: TwoHosts, proc: Proc, c: Control) => Promise<void>): Promise<void> {
  using hosts = twoHosts();
  using dir = new TempDir();
  hosts.client.execSync(["ip", "addr", "add", `${SCANNER}/24`, "dev", "eth0"]);
  const { proc, c } = await startAgent(hosts, dir, block, dataplane);
  try {
    await body(hosts, proc, c);
  } finally {
    c.close();
    proc.proc.kill("SIGTERM");
    await proc.exited(10_000);
  }
}

/** The flood, then until every spoofed flow that got in has ended and been judged. */
async function flood(hosts: TwoHosts, c: Control): Promise<Record<string, number>> {
  const before = (await c.getStats()).dataplane.flows_ended ?? 0;
  const r = await hosts.client.exec(["timeout", "30", "python3", join(REPO, "test/tools/spoof-syn.py"), hosts.serverIp, "80", String(SPOOFED), "20"], { timeoutMs: 40_000 });
  expect(Number(r.stdout.trim())).toBe(SPOOFED);
  const limited = async () => (await c.getStats()).dataplane.syn_limited ?? 0;
  await waitFor("the spoofed flows to end", async () => ((await c.getStats()).dataplane.flows_ended ?? 0) >= before + SPOOFED - (await limited()), 20_000);
  return (await c.getStats()).dataplane;
}

/** A real SYN scan from SCANNER, until it is blocked (bounded by timeout and --host-timeout). */
async function scanUntilBlocked(hosts: TwoHosts, c: Control): Promise<void> {
  const scan = hosts.client.spawn(["timeout", "20", "nmap", "-sS", "-Pn", "-n", "-T4", "--max-retries", "1", "--max-rate", "500", "--host-timeout", "18s", "-e", "eth0", "-S", SCANNER, "-p", "1-3000", hosts.serverIp]);
  try {
    await waitFor("the scanner's block", async () => (await c.listBlocked()).hosts.some((h) => h.address === SCANNER), 15_000);
  } finally {
    scan.kill("SIGTERM");
  }
}

describe("a random-source SYN flood", () => {
  test("default: the spoofed sources are judged but none is blocked (one packet each); a real scanner is", async () => {
    await withAgent("", "", async (hosts, proc, c) => {
      const s = await flood(hosts, c);
      // The model does call many of them attacks; the lone-packet rule keeps them all out.
      expect(s.verdict_attack).toBeGreaterThan(SPOOFED / 2);
      expect(s.block_lone_packet).toBe(s.verdict_attack);
      expect(s.blocklist_entries).toBe(0);
      expect(s.block_failed ?? 0).toBe(0);
      await waitFor("the log line", async () => proc.err.includes("on sources that sent a single packet, not blocked"), 5_000);
      await scanUntilBlocked(hosts, c);
    });
  }, 120_000);

  test("syn_limit_per_destination: most of the flood is dropped before it makes a flow; a real scanner is still blocked", async () => {
    await withAgent("", "syn_limit_per_destination: 200", async (hosts, _proc, c) => {
      const t0 = performance.now();
      const s = await flood(hosts, c);
      const floodS = (performance.now() - t0) / 1000;
      // 200 a second plus one second of burst, for as long as the flood lasted (bounded above).
      expect(s.syn_limited).toBeGreaterThan(SPOOFED / 2);
      expect(s.flows_started).toBeLessThanOrEqual(Math.ceil(200 * (floodS + 1)) + 10);
      expect((s.flows_started ?? 0) + (s.syn_limited ?? 0)).toBeGreaterThanOrEqual(SPOOFED);
      expect(s.blocklist_entries).toBe(0);
      await Bun.sleep(1_200); // the flood's burst budget refills
      await scanUntilBlocked(hosts, c);
    });
  }, 120_000);

  test("lone_packet_sources on: the list fills to capacity, evicts as configured, says so, and still blocks a real scanner", async () => {
    await withAgent("lone_packet_sources: true, when_full: evict-soonest", "", async (hosts, proc, c) => {
      const s = await flood(hosts, c);
      expect(s.blocks_added).toBeGreaterThan(CAPACITY);
      expect(s.blocklist_entries).toBe(CAPACITY);
      expect(s.block_evicted).toBe((s.blocks_added ?? 0) - CAPACITY);
      expect(s.block_failed ?? 0).toBe(0);
      await waitFor("the warnings", async () => proc.err.includes(`block list ${CAPACITY} of ${CAPACITY} entries`) && proc.err.includes("evicted to make room"), 5_000);
      await scanUntilBlocked(hosts, c);
      expect((await c.getStats()).dataplane.blocklist_entries).toBe(CAPACITY);
    });
  }, 120_000);
});
