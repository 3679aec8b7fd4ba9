// Port scans with masscan: its own user-space TCP/IP stack sends SYNs (and UDP probes) from raw
// packets at a fixed rate, unlike nmap's adaptive timing. In a namespace masscan needs to be told
// its interface, its address and the next hop's MAC (it does not ask the kernel for routes): the
// victim is on the link, so that is the victim's own MAC, learnt by ARP (or, over IPv6, by
// neighbour discovery) as an attacker would. masscan 1.3 takes IPv6 targets and --adapter-ip as
// they are.
// masscan's receive thread may wait forever once the target stops answering, so each run is
// killed after its probes and --wait have had their time.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

const MAX_ROUNDS = 5;

/** The victim's MAC and the interface towards it (one ping resolves it by ARP or neighbour discovery, which pass XDP). */
async function nextHop(ctx: ScenarioContext, budget: Budget): Promise<{ mac: string; dev: string } | null> {
  await runTool(ctx, budget, ["ping", "-c", "1", "-W", "1", ctx.victimIp], { maxMs: 3_000, graceMs: 0 });
  const run = await runTool(ctx, budget, ["ip", "-j", "neigh", "show", ctx.victimIp], { maxMs: 3_000, graceMs: 0 });
  try {
    const entries = JSON.parse(run.stdout) as { dst?: string; dev?: string; lladdr?: string }[];
    const entry = entries.find((e) => e.dst === ctx.victimIp && e.lladdr && e.dev);
    return entry ? { mac: entry.lladdr!, dev: entry.dev! } : null;
  } catch {
    return null;
  }
}

interface MasscanPorts {
  spec: string;
  count: number;
}

/** A port specification with about `budget` ports: low ranges, random ranges, and some UDP. */
function portsFor(rng: Rng, target: number): MasscanPorts {
  const n = Math.max(16, Math.min(65_535, target));
  const kind = pickWeighted(rng, [["low", 3], ["window", 3], ["split", 2]] as const);
  let spec: string;
  let count: number;
  if (kind === "low") {
    const hi = Math.min(65_535, n);
    spec = `1-${hi}`;
    count = hi;
  } else if (kind === "window") {
    const lo = intBetween(rng, 1, Math.max(1, 65_535 - n));
    spec = `${lo}-${lo + n - 1}`;
    count = n;
  } else {
    // The well-known range plus a high window, as scans for admin ports do.
    const low = Math.min(1_024, Math.floor(n / 2));
    const lo = intBetween(rng, 1_025, Math.max(1_025, 65_535 - (n - low)));
    spec = `1-${low},${lo}-${lo + (n - low) - 1}`;
    count = n;
  }
  if (chance(rng, 0.4)) {
    const udp = [53, 69, 123, 137, 161, 500, 1900, 5353].filter(() => chance(rng, 0.5));
    if (udp.length > 0) {
      spec += `,${udp.map((p) => `U:${p}`).join(",")}`;
      count += udp.length;
    }
  }
  return { spec, count };
}

async function runMasscan(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const hop = await nextHop(ctx, budget);
  if (!hop) return { actions: 0, note: `no ${ctx.family === 6 ? "neighbour advertisement" : "ARP answer"} from ${ctx.victimIp}: masscan needs the next hop's MAC` };
  const rounds = intBetween(rng, 1, MAX_ROUNDS);
  let probes = 0;
  let open = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < rounds && budget.allows(2_500); ran++) {
    const rate = pickWeighted<() => number>(rng, [
      [() => intBetween(rng, 100, 500), 2],
      [() => intBetween(rng, 500, 2_000), 3],
      [() => intBetween(rng, 2_000, 6_000), 2],
    ])();
    const wait = intBetween(rng, 1, 3);
    const retries = pickWeighted(rng, [[0, 4], [1, 2], [2, 1]] as const);
    // Enough ports for 2-8 s of sending at this rate, within what is left of the budget.
    const sendS = Math.min(intBetween(rng, 2, 8), Math.max(1, budget.remainingMs() / 1_000 - wait - 1));
    const ports = portsFor(rng, Math.round((rate * sendS) / (retries + 1)));
    const argv = [
      "masscan", ctx.victimIp, "-p", ports.spec, "--rate", String(rate), "--wait", String(wait), "--retries", String(retries),
      "--adapter", hop.dev, "--adapter-ip", ctx.srcIp, "--router-mac", hop.mac, "--seed", String(intBetween(rng, 1, 2 ** 31 - 1)),
      ...(chance(rng, 0.2) ? ["--ttl", String(pick(rng, [32, 64, 128, 255]))] : []),
    ];
    ctx.log(argv.join(" "));
    const expectedMs = ((ports.count * (retries + 1)) / rate) * 1_000 + wait * 1_000 + 2_000;
    // masscan ends by itself after --wait unless its receive thread hangs: kill it then.
    const run = await runTool(ctx, budget, argv, { maxMs: expectedMs, graceMs: 0 });
    open += (run.stdout.match(/^Discovered open port/gm) ?? []).length;
    probes += ports.count * (retries + 1);
    described.push(`${ports.count} ports @${rate}/s x${retries + 1}`);
    if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 500, 3_000));
  }
  const notes = [`${ran} runs (${described.join("; ")}), ${open} open ports found, router MAC ${hop.mac} on ${hop.dev}`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: probes, note: notes.join(", ") };
}

export const MASSCAN_SCENARIOS: Scenario[] = [
  { id: "masscan-scan", label: "PortScan", tool: "masscan", ipv6: true, description: "masscan fixed-rate SYN (and some UDP) scans over run-drawn port ranges", run: runMasscan },
];
