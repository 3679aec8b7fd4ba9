// Benign ICMP echo: an operator or a monitoring script pinging the victim with iputils ping, over
// IPv4 or IPv6 (`ping -6` in an IPv6 run). Each session is a short check at a drawn interval and
// payload size, now and then a quick burst (-i 0.05 -c 20, which needs root, as the testbed is)
// like someone checking a link. Every ping is bounded in count and by its own deadline (-w).
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { Budget, runTool } from "./bounded.ts";
import { runUsers, Tally } from "./clients.ts";
import { intBetween, pickWeighted, type Rng } from "./random.ts";

/**
 * The smallest payload drawn (ping -s). The recorder tells echo from neighbour discovery by size
 * (test/testbed/dataset.ts, ND_MAX_PAYLOAD: no ND message a host sends carries more than 32 bytes
 * after its 8-byte header), so a smaller echo would be left out of an IPv6 recording.
 */
export const PING_MIN_PAYLOAD = 40;
/** Below the links' 1500-byte MTU with either IP header: no fragments. */
const PING_MAX_PAYLOAD = 1_400;
/** A session's longest run of echoes (count x interval), so the budget ends on time. */
const MAX_SESSION_MS = 20_000;

interface PingPlan {
  kind: "check" | "watch" | "burst";
  count: number;
  intervalS: number;
  /** undefined: ping's default 56 bytes */
  payload: number | undefined;
}

function pingPlan(rng: Rng, remainingMs: number): PingPlan {
  const kind = pickWeighted(rng, [["check", 6], ["watch", 3], ["burst", 1]] as const);
  const payload = pickWeighted(rng, [
    [undefined, 5],
    [intBetween(rng, PING_MIN_PAYLOAD, 128), 3],
    [intBetween(rng, 129, PING_MAX_PAYLOAD), 2],
  ] as const);
  if (kind === "burst") return { kind, count: 20, intervalS: 0.05, payload };
  // Intervals in tenths of a second: a quick check at 0.2-2 s, a longer watch at about 1 s.
  const intervalS = kind === "check" ? intBetween(rng, 2, 20) / 10 : intBetween(rng, 8, 12) / 10;
  const wanted = kind === "check" ? intBetween(rng, 2, 8) : intBetween(rng, 8, 25);
  const fits = Math.floor(Math.min(MAX_SESSION_MS, remainingMs) / (intervalS * 1_000));
  return { kind, count: Math.max(1, Math.min(wanted, fits)), intervalS, payload };
}

async function pingChecks(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const sessions = await runUsers(ctx, budget, { workers: [1, 2], thinkMs: [500, 4_000], minSessionMs: 1_500 }, async (rng) => {
    const plan = pingPlan(rng, budget.remainingMs());
    // -w: ping's own deadline, a second past its last echo's reply wait (-W 1).
    const deadlineS = Math.ceil(plan.count * plan.intervalS) + 2;
    const argv = [
      "ping", ctx.family === 6 ? "-6" : "-4", "-n", "-q", "-c", String(plan.count), "-i", String(plan.intervalS), "-W", "1", "-w", String(deadlineS),
      ...(plan.payload !== undefined ? ["-s", String(plan.payload)] : []), ctx.victimIp,
    ];
    const run = await runTool(ctx, budget, argv, { maxMs: deadlineS * 1_000 + 2_000 });
    const summary = /(\d+) packets transmitted, (\d+) received/.exec(run.stdout);
    if (!summary) {
      tally.fail("failed", run);
      return;
    }
    tally.add(`${plan.kind} runs`);
    tally.add("echoes", Number(summary[1]));
    tally.add("replies", Number(summary[2]));
    if (Number(summary[2]) < Number(summary[1])) tally.add("runs with loss");
  });
  return { actions: tally.get("echoes"), note: `${sessions} ping runs; ${tally.describe()}` };
}

export const PING_SCENARIOS: Scenario[] = [
  { id: "ping", label: BENIGN, tool: "ping", ipv6: true, description: "iputils ping checks of the victim: drawn count, interval and size, the odd 20-echo burst", run: pingChecks },
];
