// Automated SQL injection with sqlmap against the victim's log-in form (POST) or search (GET),
// non-interactive (--batch) and bounded: per round the target, --level and --risk, the techniques
// (boolean, error, union, stacked, time-based, inline), threads, a random or fixed user agent, a
// delay between requests and sometimes tamper scripts. The app is not injectable, so sqlmap works
// through its tests and gives up; the next round tries other settings until the budget ends.
// --ignore-code 401: the form's failed log-in is an answer, not a need for HTTP authentication.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { formEncode, webOrigin } from "./curl-session.ts";
import { chance, intBetween, pick, pickWeighted, sample } from "./random.ts";

const MAX_ROUNDS = 4;
const TAMPERS = ["space2comment", "randomcase", "between", "charencode", "equaltolike", "space2plus", "apostrophemask", "percentage"] as const;

/** Requests sqlmap logged to its traffic file (-t). */
function requestsIn(file: string): number {
  if (!existsSync(file)) return 0;
  return (readFileSync(file, "utf8").match(/^HTTP request \[#\d+\]:/gm) ?? []).length;
}

async function runSqlmap(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const origin = webOrigin(ctx);
  const { loginPath, searchPath } = ctx.services.web;
  const rounds = intBetween(rng, 1, MAX_ROUNDS);
  let requests = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < rounds && budget.allows(3_000); ran++) {
    const post = chance(rng, 0.6);
    const targetArgs = post
      ? ["-u", origin + loginPath, "--data", formEncode({ user: pick(rng, ["admin", "alice", "test"]), password: `p${intBetween(rng, 0, 9_999)}` })]
      : ["-u", `${origin}${searchPath}?${formEncode({ q: pick(rng, ["router", "vpn", "switch", "1"]) })}`];
    const level = pickWeighted(rng, [[1, 3], [2, 2], [3, 1]] as const);
    const risk = pickWeighted(rng, [[1, 3], [2, 1]] as const);
    const techniques = sample(rng, ["B", "E", "U", "S", "T", "Q"], intBetween(rng, 2, 6)).join("");
    const threads = intBetween(rng, 1, 6);
    const tampers = chance(rng, 0.3) ? sample(rng, TAMPERS, intBetween(rng, 1, 2)) : [];
    const traffic = join(ctx.workDir, `sqlmap-traffic-${ran}.txt`);
    const argv = [
      "env", `HOME=${ctx.workDir}`, "sqlmap", ...targetArgs, "--batch", "--flush-session", "--disable-coloring", "--ignore-code", "401",
      "--level", String(level), "--risk", String(risk), "--technique", techniques, "--threads", String(threads),
      // Short waits: time-based tests against a server that never sleeps.
      "--timeout", "5", "--retries", "1", "--time-sec", "1",
      "--output-dir", join(ctx.workDir, "sqlmap-out"), "-t", traffic,
      ...(chance(rng, 0.5) ? ["--random-agent"] : []),
      ...(chance(rng, 0.25) ? ["--delay", (intBetween(rng, 1, 5) / 20).toFixed(2)] : []),
      ...(tampers.length > 0 ? ["--tamper", tampers.join(",")] : []),
    ];
    ctx.log(argv.join(" "));
    // sqlmap stops when its tests are done; the budget's end kills it otherwise, with no grace.
    const run = await runTool(ctx, budget, argv, { maxMs: budget.remainingMs(), graceMs: 0 });
    const sent = requestsIn(traffic);
    requests += sent;
    described.push(`${post ? "POST login" : "GET search"} level ${level} risk ${risk} ${techniques} x${threads}${tampers.length ? ` tamper ${tampers.join(",")}` : ""}: ${sent} requests`);
    if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${ran} rounds (${described.join("; ")})`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: requests, note: notes.join(", ") };
}

export const SQLMAP_SCENARIOS: Scenario[] = [
  { id: "sqlmap", label: "Web-SQLi", tool: "sqlmap", ipv6: true, description: "sqlmap --batch against the login form or the search (levels, risks, techniques, tampers per round)", run: runSqlmap },
];
