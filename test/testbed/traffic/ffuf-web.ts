// Web attacks with ffuf (Fuzz Faster U Fool), a fuzzer that sends one request per word of its
// lists from many threads: password guessing against the log-in form (clusterbomb of users x
// passwords, the 401s filtered out) and reflected-XSS payloads into the search page or the
// form's user field. Threads, the delay between requests, the user agent and the lists are drawn
// per run; -maxtime makes each run end by itself within the budget. ffuf sends its words as they
// are, so the lists are written URL/form-encoded.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { formEncode, randomBrowser, webOrigin } from "./curl-session.ts";
import { largest } from "./login-targets.ts";
import { chance, intBetween, maybe, pick, type Rng } from "./random.ts";
import { passwordList, userList, writeList } from "./wordlists.ts";
import { xssPayloads } from "./xss-payloads.ts";

/** A form field value as a browser encodes it (formEncode's value half). */
function encoded(value: string): string {
  return formEncode({ v: value }).slice(2);
}

interface FfufJob {
  args: string[];
  words: number;
  describe: string;
}

function loginJob(rng: Rng, ctx: ScenarioContext): FfufJob {
  const { user, password, loginPath } = ctx.services.web;
  const users = userList(rng, intBetween(rng, 1, 4), maybe(rng, 0.7, user));
  const passwords = passwordList(rng, Math.ceil(intBetween(rng, 100, 400) / users.length), maybe(rng, 0.5, password));
  const userFile = writeList(ctx.workDir, `ffuf-users-${intBetween(rng, 0, 1e9)}.txt`, users.map(encoded));
  const passFile = writeList(ctx.workDir, `ffuf-passwords-${intBetween(rng, 0, 1e9)}.txt`, passwords.map(encoded));
  return {
    args: [
      "-u", webOrigin(ctx) + loginPath, "-X", "POST", "-d", "user=UFUZZ&password=PFUZZ", "-H", "Content-Type: application/x-www-form-urlencoded",
      "-w", `${userFile}:UFUZZ`, "-w", `${passFile}:PFUZZ`, "-mode", "clusterbomb", "-mc", "all", "-fc", "401",
    ],
    words: users.length * passwords.length,
    describe: `${users.length} users x ${passwords.length} passwords`,
  };
}

function xssJob(rng: Rng, ctx: ScenarioContext): FfufJob {
  const { searchPath, loginPath } = ctx.services.web;
  const payloads = xssPayloads(rng, intBetween(rng, 100, 400));
  const file = writeList(ctx.workDir, `ffuf-xss-${intBetween(rng, 0, 1e9)}.txt`, payloads.map(encoded));
  if (chance(rng, 0.7)) {
    return { args: ["-u", `${webOrigin(ctx)}${searchPath}?q=FUZZ`, "-w", `${file}:FUZZ`, "-mc", "all"], words: payloads.length, describe: `${payloads.length} payloads into ?q=` };
  }
  return {
    args: [
      "-u", webOrigin(ctx) + loginPath, "-X", "POST", "-d", `user=FUZZ&password=x${intBetween(rng, 0, 9_999)}`,
      "-H", "Content-Type: application/x-www-form-urlencoded", "-w", `${file}:FUZZ`, "-mc", "all",
    ],
    words: payloads.length,
    describe: `${payloads.length} payloads into the login user field`,
  };
}

async function runFfuf(ctx: ScenarioContext, makeJob: (rng: Rng, ctx: ScenarioContext) => FfufJob): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const rounds = intBetween(rng, 1, 5);
  let sent = 0;
  let errors = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < rounds && budget.allows(2_000); ran++) {
    const job = makeJob(rng, ctx);
    const threads = pick(rng, [intBetween(rng, 1, 4), intBetween(rng, 4, 16), intBetween(rng, 16, 40)]);
    // A delay between requests of each thread, fixed or a random range, or none at all.
    const delay = pick(rng, [null, (intBetween(rng, 1, 30) / 100).toFixed(2), `${(intBetween(rng, 1, 10) / 100).toFixed(2)}-${(intBetween(rng, 11, 60) / 100).toFixed(2)}`]);
    const maxTime = Math.max(1, Math.floor(budget.remainingMs() / 1_000));
    const argv = [
      "ffuf", ...job.args, "-t", String(threads), ...(delay ? ["-p", delay] : []), "-timeout", "5", "-maxtime", String(maxTime),
      ...(chance(rng, 0.6) ? ["-H", `User-Agent: ${randomBrowser(rng).userAgent}`] : []),
    ];
    ctx.log(argv.join(" "));
    const run = await runTool(ctx, budget, argv, { maxMs: maxTime * 1_000 + 3_000, graceMs: 0 });
    sent += largest(run.stderr, /Progress: \[(\d+)\/\d+\]/g);
    errors += largest(run.stderr, /Errors: (\d+)/g);
    described.push(`${job.describe}, ${threads} threads${delay ? `, delay ${delay} s` : ""}`);
    if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${ran} runs (${described.join("; ")}), ${errors} request errors`];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: sent, note: notes.join(", ") };
}

export const FFUF_SCENARIOS: Scenario[] = [
  { id: "ffuf-web-login", label: "Web-BruteForce", tool: "ffuf", description: "ffuf clusterbomb of users x passwords POSTed to the login form", ipv6: true, run: (ctx) => runFfuf(ctx, loginJob) },
  { id: "ffuf-xss", label: "Web-XSS", tool: "ffuf", description: "ffuf reflected-XSS payload lists into the search page or the login form", ipv6: true, run: (ctx) => runFfuf(ctx, xssJob) },
];
