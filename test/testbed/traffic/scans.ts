// Port scans with nmap, one scenario per scan technique, as a scanning attacker runs them: a few
// scans in a row over run-specific port sets and timing templates. -Pn because a victim that
// blocked the source answers nothing (nmap would otherwise stop at host discovery); -n because
// the scenario host has no resolver.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { intBetween, pickWeighted, shuffled, type Rng } from "./random.ts";

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

interface ScanKind {
  id: string;
  description: string;
  /** nmap scan-type flags of the scans to run in turn (the scenario cycles through them). */
  techniques: string[];
  ports: (rng: Rng) => PortSet;
  maxScans: [number, number];
  shuffle?: boolean;
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
    const ports = kind.ports(rng);
    const timing = pickWeighted(rng, [["-T4", 3], ["-T3", 2]] as const);
    const retries = String(intBetween(rng, 1, 2));
    const hostTimeoutS = Math.max(2, Math.floor(Math.min(SCAN_CAP_MS, budget.remainingMs()) / 1_000));
    const argv = ["nmap", "-Pn", "-n", technique, timing, "--max-retries", retries, "--host-timeout", `${hostTimeoutS}s`, "-v", ...ports.args, ctx.victimIp];
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

export const SCAN_SCENARIOS: Scenario[] = SCAN_KINDS.map((kind) => ({
  id: kind.id,
  label: "PortScan",
  description: kind.description,
  run: (ctx) => runScans(kind, ctx),
}));
