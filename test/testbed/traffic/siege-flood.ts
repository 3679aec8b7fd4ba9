// HTTP flood with siege: simulated users hitting a list of URLs (pages, searches, log-in POSTs)
// for a fixed time, in benchmark mode (no delay) or with a short random delay, sequentially or
// at random over the list (-i), with or without keep-alive, and with or without fetching each
// page's images, scripts and style sheets (siege's HTML parser). siege's own configuration file
// is written per run, and HOME points at the work directory so nothing lands in /root.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { formEncode, randomBrowser, webOrigin } from "./curl-session.ts";
import { chance, intBetween, pick, sample, type Rng } from "./random.ts";

const MAX_ROUNDS = 3;

function urlList(rng: Rng, ctx: ScenarioContext): string[] {
  const origin = webOrigin(ctx);
  const { pages, searchPath, loginPath } = ctx.services.web;
  const urls = sample(rng, pages, intBetween(rng, 1, pages.length)).map((p) => origin + p);
  if (chance(rng, 0.6)) {
    for (const q of sample(rng, ["router", "firewall", "vpn gateway", "switch", "backup", "support"], intBetween(rng, 1, 4))) urls.push(`${origin}${searchPath}?q=${encodeURIComponent(q)}`);
  }
  if (chance(rng, 0.4)) {
    for (let i = intBetween(rng, 1, 3); i > 0; i--) urls.push(`${origin}${loginPath} POST ${formEncode({ user: pick(rng, ["admin", "alice", "guest"]), password: `x${intBetween(rng, 0, 99_999)}` })}`);
  }
  return urls;
}

function siegeConfig(rng: Rng, keepAlive: boolean, parser: boolean): string {
  return [
    "verbose = false",
    "color = off",
    "quiet = false",
    "json_output = true",
    "show-logfile = false",
    "logging = false",
    "protocol = HTTP/1.1",
    "chunked = true",
    "cache = false",
    `connection = ${keepAlive ? "keep-alive" : "close"}`,
    `parser = ${parser}`,
    "timeout = 3",
    // A blocked source keeps failing: siege gives up after this many, or at its time limit.
    "failures = 2048",
    "accept-encoding = gzip, deflate",
    "url-escaping = true",
    "limit = 255",
    `user-agent = ${chance(rng, 0.5) ? randomBrowser(rng).userAgent : "Mozilla/5.0 (pc-x86_64-linux-gnu) Siege/4.0.7"}`,
    "",
  ].join("\n");
}

async function runSiege(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const rounds = intBetween(rng, 1, MAX_ROUNDS);
  let transactions = 0;
  let failed = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < rounds && budget.allows(2_000); ran++) {
    const users = pick(rng, [intBetween(rng, 5, 20), intBetween(rng, 20, 60), intBetween(rng, 60, 120)]);
    const benchmark = chance(rng, 0.6);
    const keepAlive = chance(rng, 0.4);
    const parser = chance(rng, 0.3);
    const randomOrder = chance(rng, 0.6);
    const seconds = Math.max(1, Math.min(Math.floor(budget.remainingMs() / 1_000), intBetween(rng, 3, 15)));
    const urls = urlList(rng, ctx);
    const urlFile = join(ctx.workDir, `siege-urls-${ran}.txt`);
    writeFileSync(urlFile, `${urls.join("\n")}\n`);
    const rc = join(ctx.workDir, `siegerc-${ran}`);
    writeFileSync(rc, siegeConfig(rng, keepAlive, parser));
    const delay = benchmark ? ["-b"] : ["-d", (intBetween(rng, 1, 10) / 10).toFixed(1)];
    // siege ends at -t only once every user's request in flight is answered or times out; an
    // interrupt makes it stop and still print its summary, so a stall is cut by SIGINT first.
    const argv = ["env", `HOME=${ctx.workDir}`, "timeout", "-s", "INT", "-k", "2", String(seconds + 3), "siege", `--rc=${rc}`, "-c", String(users), "-t", `${seconds}S`, ...delay, ...(randomOrder ? ["-i"] : []), "-f", urlFile];
    ctx.log(argv.join(" "));
    const run = await runTool(ctx, budget, argv, { maxMs: seconds * 1_000 + 7_000 });
    const out = run.stdout + run.stderr;
    const done = /"transactions":\s*(\d+)/.exec(out);
    if (done) {
      transactions += Number(done[1]);
      failed += Number(/"failed_transactions":\s*(\d+)/.exec(out)?.[1] ?? 0);
    } else if (!run.killed) {
      problems.push(firstErrorLine(run));
    }
    described.push(`${users} users ${benchmark ? "no delay" : `delay ${delay[1]} s`} ${urls.length} urls${randomOrder ? " random" : ""}${keepAlive ? " keep-alive" : ""}${parser ? " +assets" : ""} ${seconds} s`);
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${ran} rounds (${described.join("; ")}), ${failed} failed`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: transactions, note: notes.join(", ") };
}

export const SIEGE_FLOOD_SCENARIOS: Scenario[] = [
  { id: "siege-http-flood", label: "DoS-HTTPFlood", tool: "siege", ipv6: true, description: "siege simulated users over a URL list (GET/POST), benchmark or short delays", run: runSiege },
];
