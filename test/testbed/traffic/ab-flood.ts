// HTTP flood with ApacheBench (`ab`, Debian's apache2-utils): as many requests as the server
// answers, from a fixed number of concurrent connections, one target per round. Per run and
// round: the concurrency, the request count and time limit, keep-alive or a connection per
// request, the method (GET, HEAD, POST to the log-in form) and the target page.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { formEncode, randomBrowser, webOrigin } from "./curl-session.ts";
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

const MAX_ROUNDS = 6;

interface Target {
  args: string[];
  path: string;
  describe: string;
}

function target(rng: Rng, ctx: ScenarioContext): Target {
  const { pages, downloads, searchPath, loginPath } = ctx.services.web;
  const kind = pickWeighted(rng, [["page", 5], ["search", 2], ["post", 2], ["head", 1], ["download", 1]] as const);
  switch (kind) {
    case "search": {
      const path = `${searchPath}?q=${pick(rng, ["router", "firewall", "vpn", "switch", "backup", "a"])}`;
      return { args: [], path, describe: "GET search" };
    }
    case "post": {
      // A POST body from a file, as ab takes it.
      const body = join(ctx.workDir, `ab-post-${intBetween(rng, 0, 1e9)}.txt`);
      writeFileSync(body, formEncode({ user: pick(rng, ["admin", "alice", "test"]), password: `p${intBetween(rng, 0, 99_999)}` }));
      return { args: ["-p", body, "-T", "application/x-www-form-urlencoded"], path: loginPath, describe: "POST login" };
    }
    case "head":
      return { args: ["-i"], path: pick(rng, pages), describe: "HEAD" };
    case "download":
      // Only the small ones: a flood is about requests, not bandwidth.
      return { args: [], path: pick(rng, downloads.slice(0, 2)), describe: "GET download" };
    default:
      return { args: [], path: pick(rng, pages), describe: "GET page" };
  }
}

async function runAb(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const rounds = intBetween(rng, 2, MAX_ROUNDS);
  let completed = 0;
  let failed = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < rounds && budget.allows(1_500); ran++) {
    const t = target(rng, ctx);
    const concurrency = pickWeighted<() => number>(rng, [[() => intBetween(rng, 5, 20), 2], [() => intBetween(rng, 20, 60), 3], [() => intBetween(rng, 60, 150), 1]])();
    const requests = Math.max(concurrency, intBetween(rng, 500, 12_000));
    const keepAlive = chance(rng, 0.5);
    const seconds = Math.max(1, Math.min(Math.floor(budget.remainingMs() / 1_000), intBetween(rng, 3, 15)));
    const headers = [
      ...(chance(rng, 0.5) ? ["-H", `User-Agent: ${randomBrowser(rng).userAgent}`] : []),
      ...(chance(rng, 0.4) ? ["-H", "Accept-Encoding: gzip, deflate"] : []),
    ];
    // -t before -n: -t alone would set the count to 50000. -r: socket errors (a blocked source)
    // do not end the run; -s: no request waits more than 5 s.
    const argv = ["ab", "-t", String(seconds), "-n", String(requests), "-c", String(concurrency), "-s", "5", "-r", ...(keepAlive ? ["-k"] : []), ...headers, ...t.args, webOrigin(ctx) + t.path];
    ctx.log(argv.join(" "));
    const run = await runTool(ctx, budget, argv, { maxMs: seconds * 1_000 + 8_000 });
    const done = Number(/Complete requests:\s+(\d+)/.exec(run.stdout)?.[1] ?? NaN);
    if (Number.isFinite(done)) {
      completed += done;
      failed += Number(/Failed requests:\s+(\d+)/.exec(run.stdout)?.[1] ?? 0);
    } else {
      // Killed or failed before its report: its progress lines ("Completed N requests") remain.
      completed += Math.max(0, ...[...run.stderr.matchAll(/Completed (\d+) requests/g)].map((m) => Number(m[1])));
      if (!run.killed) problems.push(firstErrorLine(run));
    }
    described.push(`${t.describe} ${t.path} c${concurrency} n${requests}${keepAlive ? " keep-alive" : ""} ${seconds} s`);
    await budget.pause(intBetween(rng, 200, 2_000));
  }
  const notes = [`${ran} rounds (${described.join("; ")}), ${failed} failed requests`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: completed, note: notes.join(", ") };
}

export const AB_FLOOD_SCENARIOS: Scenario[] = [
  { id: "ab-http-flood", label: "DoS-HTTPFlood", tool: "ab", ipv6: true, description: "ApacheBench HTTP flood: fixed concurrency, GET/HEAD/POST, with or without keep-alive", run: runAb },
];
