// The testbed over IPv6 on the real kernel. First the star itself: one /64 per link from
// 2001:2::/48, no IPv4 on the links, neighbour discovery through a link-condition relay. Then a
// short real run (--family 6, no model, alert only) of a few benign and attack scenarios: flows
// arrive as family 6 from each host's own IPv6 address and are labelled by it, every scenario
// that ran made flows, the scenarios whose tools have no IPv6 are reported with their reason,
// and nothing is left behind (namespaces, processes in them, the FTP PAM service).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { TEST_PREFIX } from "../harness/netns.ts";
import { flowsToCsv, isNeighbourDiscovery } from "./dataset.ts";
import { evaluateRun } from "./evaluate.ts";
import { NO_CONDITION } from "./link-conditions.ts";
import { formatSummary, summaryJson } from "./report.ts";
import { runTestbed } from "./run.ts";
import { selectScenarios } from "./scenarios.ts";
import { buildStarWithConditions, linkAddresses } from "./topology.ts";

/** Namespaces this process creates: the prefix, a one-letter tag, then pid % 10000 (netns.ts). */
const OURS = new RegExp(`^${TEST_PREFIX}[a-z]${process.pid % 10_000}[0-9a-z]*$`);

function namespaces(): string[] {
  return Bun.spawnSync(["ip", "netns", "list"]).stdout.toString().split("\n").map((l) => l.split(" ")[0]!).filter(Boolean);
}

/** The network namespace inode of each of our namespaces now (what /proc/PID/ns/net names). */
function ourNamespaceInodes(): Map<string, number> {
  return new Map(namespaces().filter((n) => OURS.test(n)).map((n) => [n, statSync(`/var/run/netns/${n}`).ino]));
}

/** Processes whose network namespace is one of `inodes` ("pid comm"). */
function processesIn(inodes: Set<number>): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const ino = Number(/^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[1]);
      if (inodes.has(ino)) out.push(`${pid} ${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}`);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

test("an IPv6 star: a /64 per link from 2001:2::/48, no IPv4 on the links, neighbour discovery through a relay", async () => {
  const before = new Set(namespaces());
  const lan = { label: "lan", delayMs: 2, jitterMs: 0, lossPct: 0 };
  let made: string[] = [];
  {
    await using star = await buildStarWithConditions(["plain", "relayed"], [NO_CONDITION, lan], { prefix: TEST_PREFIX, family: 6, timeLimitS: 60 });
    made = namespaces().filter((n) => !before.has(n) && OURS.test(n));
    expect(star.family).toBe(6);
    expect(star.hosts.map((h) => [h.id, h.ip, h.victimIp, h.victimIface, h.relay !== null])).toEqual([
      ["plain", "2001:2:0:10::2", "2001:2:0:10::1", "h0", false],
      ["relayed", "2001:2:0:11::2", "2001:2:0:11::1", "h1", true],
    ]);
    for (const h of star.hosts) {
      const ping = await h.ns.exec(["ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "2", h.victimIp], { allowFail: true, timeoutMs: 10_000 });
      expect(ping.code, `${h.id}: ${ping.stdout}${ping.stderr}`).toBe(0);
      // The victim's MAC was learnt by neighbour discovery (no static entry here), across the relay too.
      const mac = (JSON.parse(star.victim.execSync(["ip", "-j", "link", "show", "dev", h.victimIface]).stdout) as { address: string }[])[0]!.address;
      const neigh = h.ns.execSync(["ip", "-6", "neigh", "show", h.victimIp, "dev", "eth0"]).stdout;
      expect(neigh, h.id).toContain(`lladdr ${mac}`);
      expect(neigh, h.id).toMatch(/REACHABLE|STALE|DELAY|PROBE/);
      expect(h.ns.execSync(["ip", "-4", "addr", "show", "dev", "eth0"]).stdout.trim(), h.id).toBe("");
      // DAD is off: the address is usable at once, never "tentative".
      expect(h.ns.execSync(["ip", "-6", "addr", "show", "dev", "eth0"]).stdout, h.id).not.toContain("tentative");
    }
    const [plainStats, relayStats] = await star.stopRelays();
    expect(plainStats).toBeNull();
    // Both directions crossed the relay: neighbour solicitations and advertisements, then the echoes.
    expect(relayStats!.hostToVictim.forwarded).toBeGreaterThanOrEqual(3);
    expect(relayStats!.victimToHost.forwarded).toBeGreaterThanOrEqual(3);
  }
  expect(made.length).toBe(4); // victim, two hosts, one relay
  const left = new Set(namespaces());
  for (const n of made) expect(left.has(n), `namespace ${n} left behind`).toBe(false);
}, 30_000);

/** A few of each kind: benign web, ssh and DNS; nmap, hydra and ab attacks; three tools with no IPv6. */
const RUN = ["web-browse", "ssh-session", "dns-lookups", "ping", "nmap-syn", "hydra-ssh", "hping3-syn-flood", "ab-http-flood", "medusa-ssh", "t50-syn-flood"];
const SKIPPED = ["hping3-syn-flood", "medusa-ssh", "t50-syn-flood"];

test("a short IPv6 testbed run: family 6 flows from each host's own address, labelled; skipped tools reported; nothing left", async () => {
  let seen = new Map<string, number>();
  const lines: string[] = [];
  const run = await runTestbed({
    scenarios: selectScenarios(RUN),
    model: null,
    protect: false,
    seed: 3,
    attackMs: 4_000,
    attackStaggerMs: 500,
    leadMs: 1_000,
    tailMs: 1_000,
    prefix: TEST_PREFIX,
    family: 6,
    log: (line) => {
      lines.push(line);
      console.log(line);
      // The star is up once its plan is logged: note its namespaces to check their teardown.
      if (line.startsWith("testbed: victim +")) seen = ourNamespaceInodes();
    },
  });

  expect(run.family).toBe(6);
  expect(run.skipped.map((s) => s.scenario.id).sort()).toEqual([...SKIPPED].sort());
  for (const s of run.skipped) {
    expect(s.reason.length, s.scenario.id).toBeGreaterThan(20);
    expect(lines.some((l) => l.includes(`skipped ${s.scenario.id}`) && l.includes(s.reason)), `${s.scenario.id}: skip not logged`).toBe(true);
  }
  const summary = formatSummary(run, evaluateRun(run));
  console.log(summary);
  expect(summary).toContain("over IPv6");
  for (const s of run.skipped) expect(summary).toContain(s.reason);
  expect((summaryJson(run, evaluateRun(run)).skipped as { scenario: string }[]).map((s) => s.scenario).sort()).toEqual([...SKIPPED].sort());

  // Hosts in the order of the scenarios that ran, each on its own /64.
  const ran = RUN.filter((id) => !SKIPPED.includes(id));
  expect(run.hosts.map((h) => h.scenario.id)).toEqual(ran);
  run.hosts.forEach((h, i) => expect(h.ip).toBe(linkAddresses(i, 6).host));
  expect(run.strays).toBe(0);
  expect(run.flows.length).toBeGreaterThan(0);
  for (const f of run.flows) expect(f.record.family).toBe(6);
  for (const [i, h] of run.hosts.entries()) {
    const id = h.scenario.id;
    expect("error" in h.result, `${id}: ${JSON.stringify(h.result)}`).toBe(false);
    if (!("error" in h.result)) expect(h.result.actions, `${id}: ${h.result.note}`).toBeGreaterThan(0);
    const mine = run.flows.filter((f) => f.scenario === id);
    expect(mine.length, `${id}: no flows`).toBeGreaterThan(0);
    // Labelled by source exactly as the data plane printed it, and sent to this link's victim address.
    for (const f of mine) expect(f.record.srcAddr, id).toBe(h.ip);
    expect(mine.some((f) => f.record.dstAddr === linkAddresses(i, 6).victim), `${id}: nothing to ${linkAddresses(i, 6).victim}`).toBe(true);
  }
  // ping -6 made ICMPv6 echo flows to the victim, which a recording keeps; the other hosts here
  // send no ICMPv6 of their own, so theirs is neighbour discovery, which a recording leaves out.
  const icmp6 = run.flows.filter((f) => f.record.protocol === 58);
  const echoes = icmp6.filter((f) => f.scenario === "ping");
  expect(echoes.filter((f) => !isNeighbourDiscovery(f)).length, "ping: no kept echo flows").toBeGreaterThan(0);
  for (const f of icmp6.filter((x) => x.scenario !== "ping")) expect(isNeighbourDiscovery(f), `${f.scenario}: ICMPv6 flow kept ${JSON.stringify(f.record.features.slice(0, 8))}`).toBe(true);
  console.log(`ICMPv6 flows: ${echoes.length} of ping, ${icmp6.length - echoes.length} of other hosts (neighbour discovery)`);

  // The recording's Family and Src IP columns say the same.
  const rows = flowsToCsv(run.flows).trim().split("\n");
  const head = rows[0]!.split(",");
  const fam = head.indexOf("Family");
  const src = head.indexOf("Src IP");
  for (const row of rows.slice(1)) {
    const cells = row.split(",");
    expect(cells[fam]).toBe("6");
    expect(cells[src]!.startsWith("2001:2:0:")).toBe(true);
  }

  // Nothing left: the run's namespaces are gone, no process sits in one, the PAM service is removed.
  expect(seen.size).toBe(1 + ran.length);
  const left = new Set(namespaces());
  for (const n of seen.keys()) expect(left.has(n), `namespace ${n} left behind`).toBe(false);
  expect(processesIn(new Set(seen.values()))).toEqual([]);
  expect(readdirSync("/etc/pam.d").filter((n) => n.startsWith(`xids-testbed-ftp-${process.pid}`))).toEqual([]);
}, 60_000);
