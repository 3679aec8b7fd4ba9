// Port scans with nmap, one scenario per scan technique, as a scanning attacker runs them: a few
// scans in a row over run-specific port sets and timing templates. -Pn because a victim that
// blocked the source answers nothing (nmap would otherwise stop at host discovery); -n because
// the scenario host has no resolver. Over IPv6 with -6 (nmap finds the victim's MAC by its own
// neighbour discovery, as it does by ARP over IPv4).
import type { Family } from "../topology.ts";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { ipv6Flag } from "./addresses.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { chance, intBetween, pick, pickWeighted, shuffled, type Rng } from "./random.ts";

/** The most one nmap run may take (its --host-timeout); scans usually end in seconds. */
const SCAN_CAP_MS = 40_000;

interface PortSet {
  args: string[];
  /** Ports probed (the scan's unit of work). */
  ports: number;
  describe: string;
}

function tcpPorts(rng: Rng): PortSet {
  return pickWeighted<() => PortSet>(rng, [
    // nmap's default: the 1000 most common ports.
    [() => ({ args: [], ports: 1000, describe: "default 1000" }), 3],
    [() => {
      const n = intBetween(rng, 100, 2000);
      return { args: ["--top-ports", String(n)], ports: n, describe: `top ${n}` };
    }, 3],
    [() => {
      const hi = intBetween(rng, 1024, 3000);
      return { args: ["-p", `1-${hi}`], ports: hi, describe: `1-${hi}` };
    }, 2],
    [() => {
      const lo = intBetween(rng, 1, 60_000);
      const hi = Math.min(65_535, lo + intBetween(rng, 500, 2500));
      return { args: ["-p", `${lo}-${hi}`], ports: hi - lo + 1, describe: `${lo}-${hi}` };
    }, 1],
  ])();
}

function udpPorts(rng: Rng): PortSet {
  // Closed UDP ports answer with rate-limited ICMP (nmap then slows down): keep UDP scans small.
  const n = intBetween(rng, 20, 100);
  return { args: ["--top-ports", String(n)], ports: n, describe: `top ${n} udp` };
}

/** One scan's timing template, ports and further options (the matrix kinds draw all of them). */
interface ScanPlan {
  timing: string;
  ports: PortSet;
  extra: string[];
  describe: string;
}

interface ScanKind {
  id: string;
  description: string;
  /** nmap scan-type flags of the scans to run in turn (the scenario cycles through them). */
  techniques: string[];
  ports: (rng: Rng) => PortSet;
  maxScans: [number, number];
  shuffle?: boolean;
  /** Draws the whole scan (timing, ports, options) instead of the default -T3/-T4 and `ports`. */
  plan?: (rng: Rng, technique: string, family: Family) => ScanPlan;
}

const SCAN_KINDS: ScanKind[] = [
  { id: "nmap-syn", description: "nmap -sS half-open SYN scans", techniques: ["-sS"], ports: tcpPorts, maxScans: [2, 5] },
  { id: "nmap-connect", description: "nmap -sT full-connect scans", techniques: ["-sT"], ports: tcpPorts, maxScans: [2, 5] },
  {
    id: "nmap-fin-xmas-null",
    description: "nmap -sF/-sX/-sN stealth scans in turn",
    techniques: ["-sF", "-sX", "-sN"],
    ports: tcpPorts,
    maxScans: [3, 6],
    shuffle: true,
  },
  { id: "nmap-ack", description: "nmap -sA ACK (firewall-mapping) scans", techniques: ["-sA"], ports: tcpPorts, maxScans: [2, 5] },
  { id: "nmap-udp", description: "nmap -sU scans of the top UDP ports", techniques: ["-sU"], ports: udpPorts, maxScans: [2, 4] },
];

async function runScans(kind: ScanKind, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const order = kind.shuffle ? shuffled(rng, kind.techniques) : kind.techniques;
  const maxScans = intBetween(rng, ...kind.maxScans);
  let probes = 0;
  let rawPackets = 0;
  let scans = 0;
  let cutShort = 0;
  const problems: string[] = [];
  const done: string[] = [];
  while (scans < maxScans && budget.allows(2_000)) {
    const technique = order[scans % order.length]!;
    let ports: PortSet;
    let timing: string;
    let extra: string[] = [];
    if (kind.plan) {
      const plan = kind.plan(rng, technique, ctx.family);
      ({ ports, timing, extra } = plan);
      if (plan.describe) ports = { ...ports, describe: `${ports.describe} ${plan.describe}` };
    } else {
      ports = kind.ports(rng);
      timing = pickWeighted(rng, [["-T4", 3], ["-T3", 2]] as const);
    }
    const retries = String(intBetween(rng, 1, 2));
    const hostTimeoutS = Math.max(2, Math.floor(Math.min(SCAN_CAP_MS, budget.remainingMs()) / 1_000));
    const argv = ["nmap", ...ipv6Flag(ctx), "-Pn", "-n", technique, timing, "--max-retries", retries, "--host-timeout", `${hostTimeoutS}s`, "-v", ...extra, ...ports.args, ctx.victimIp];
    ctx.log(argv.join(" "));
    const run = await runTool(ctx, budget, argv, { maxMs: hostTimeoutS * 1_000 + 5_000 });
    scans++;
    probes += ports.ports;
    rawPackets += Number(/Raw packets sent: (\d+)/.exec(run.stdout)?.[1] ?? 0);
    if (run.killed || /host timeout/i.test(run.stdout)) cutShort++;
    else if (run.code !== 0) problems.push(firstErrorLine(run));
    done.push(`${technique} ${timing} ${ports.describe}`);
    // A scanning attacker pauses between runs (reading the last result, changing options).
    await budget.pause(intBetween(rng, 500, 4_000));
  }
  const notes = [`${scans} scans (${done.join("; ")})`];
  if (rawPackets > 0) notes.push(`${rawPackets} raw packets`);
  if (cutShort > 0) notes.push(`${cutShort} cut short by timeout`);
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: probes, note: notes.join(", ") };
}

function scenarioOf(kind: ScanKind): Scenario {
  return { id: kind.id, label: "PortScan", tool: "nmap", ipv6: true, description: kind.description, run: (ctx) => runScans(kind, ctx) };
}

export const SCAN_SCENARIOS: Scenario[] = SCAN_KINDS.map(scenarioOf);

// ---------------------------------------------------------------------------------------------
// The scenario matrix's nmap kinds: every timing template from -T2 (polite) to -T5 (insane), the
// other scan types (Maimon, window), service-version probing and per-run evasion options.

/** nmap's timing templates as scanners use them: -T4 most, -T2 (0.4 s between probes) least. */
const TIMINGS = [["-T2", 1], ["-T3", 2], ["-T4", 3], ["-T5", 2]] as const;

/** -T2 sends one probe every 0.4 s: a polite scan covers a short list of well-known ports. */
function politePorts(rng: Rng): PortSet {
  const common = [21, 22, 23, 25, 53, 80, 110, 111, 123, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5201, 5900, 8080];
  const ports = shuffled(rng, common).slice(0, intBetween(rng, 5, 14)).sort((a, b) => a - b);
  return { args: ["-p", ports.join(",")], ports: ports.length, describe: `${ports.length} well-known` };
}

function topUdpPorts(rng: Rng, lo: number, hi: number): PortSet {
  const n = intBetween(rng, lo, hi);
  return { args: ["--top-ports", String(n)], ports: n, describe: `top ${n} udp` };
}

const RAW_TCP = new Set(["-sS", "-sA", "-sW", "-sM", "-sF", "-sX", "-sN"]);

/** Timing, ports and the options an attacker varies: payload padding, source port, TTL, order, rate. */
function timedPlan(rng: Rng, technique: string, family: Family): ScanPlan {
  const timing = pickWeighted(rng, TIMINGS);
  const udp = technique === "-sU";
  const ports = timing === "-T2" ? (udp ? topUdpPorts(rng, 5, 12) : politePorts(rng)) : udp ? udpPorts(rng) : tcpPorts(rng);
  const extra: string[] = [];
  const notes: string[] = [];
  if ((RAW_TCP.has(technique) || udp) && chance(rng, 0.3)) {
    const n = intBetween(rng, 4, 96);
    extra.push("--data-length", String(n));
    notes.push(`+${n} B`);
  }
  if (technique !== "-sT" && chance(rng, 0.15)) {
    // A source port firewalls often let through.
    const port = pick(rng, [20, 53, 67, 80, 88, 443]);
    extra.push("--source-port", String(port));
    notes.push(`sport ${port}`);
  }
  if (technique !== "-sT" && chance(rng, 0.15)) {
    const ttl = intBetween(rng, 32, 128);
    // Over IPv6 nmap puts the hop limit on its neighbour solicitations too, which the victim
    // drops (they must carry 255): the scan would find no host. Drawn all the same, so the
    // other options of an IPv6 run are the IPv4 run's.
    if (family === 4) {
      extra.push("--ttl", String(ttl));
      notes.push(`ttl ${ttl}`);
    }
  }
  if (chance(rng, 0.2)) {
    extra.push("-r");
    notes.push("sequential");
  }
  if (timing === "-T5" && !udp && chance(rng, 0.5)) {
    const rate = intBetween(rng, 300, 3_000);
    extra.push("--min-rate", String(rate));
    notes.push(`min-rate ${rate}`);
  }
  if (timing === "-T3" && chance(rng, 0.25)) {
    const delay = intBetween(rng, 5, 60);
    extra.push("--scan-delay", `${delay}ms`);
    notes.push(`delay ${delay} ms`);
  }
  return { timing, ports, extra, describe: notes.join(" ") };
}

/** Service detection: -sV connects to every open port and sends its probes (banner grabbing). */
function versionPlan(rng: Rng): ScanPlan {
  const timing = pickWeighted(rng, [["-T3", 1], ["-T4", 3], ["-T5", 1]] as const);
  const intensity = intBetween(rng, 0, 7);
  const n = intBetween(rng, 20, 300);
  return {
    timing,
    ports: { args: ["--top-ports", String(n)], ports: n, describe: `top ${n}` },
    extra: ["--version-intensity", String(intensity)],
    describe: `intensity ${intensity}`,
  };
}

const MATRIX_SCAN_KINDS: ScanKind[] = [
  { id: "nmap-syn-timing", description: "nmap -sS SYN scans over -T2..-T5 with per-run evasion options", techniques: ["-sS"], ports: tcpPorts, maxScans: [3, 6], plan: timedPlan },
  { id: "nmap-connect-timing", description: "nmap -sT connect scans over -T2..-T5", techniques: ["-sT"], ports: tcpPorts, maxScans: [3, 6], plan: timedPlan },
  {
    id: "nmap-mixed-timing",
    description: "nmap SYN/connect/ACK/window/Maimon/FIN/Xmas/Null/UDP scans in turn over -T2..-T5",
    techniques: ["-sS", "-sT", "-sA", "-sW", "-sM", "-sF", "-sX", "-sN", "-sU"],
    ports: tcpPorts,
    maxScans: [4, 8],
    shuffle: true,
    plan: timedPlan,
  },
  { id: "nmap-version", description: "nmap -sV service and version detection (probes every open port)", techniques: ["-sV"], ports: tcpPorts, maxScans: [1, 3], plan: versionPlan },
];

/** For the scenario matrix (test/testbed/matrix.ts), not the demo's default set. */
export const MATRIX_SCAN_SCENARIOS: Scenario[] = MATRIX_SCAN_KINDS.map(scenarioOf);
