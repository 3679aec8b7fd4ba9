// Password guessing against the victim's SSH and FTP servers with hydra: a user list and a
// run-generated password list, a few parallel tasks, the way hydra is usually run. Some runs
// include the real account and password, so the attack sometimes succeeds (and keeps going).
// Over IPv6 with -6 and the address bracketed in the target URL.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { ipv6Flag, urlHost } from "./addresses.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { chance, intBetween, maybe } from "./random.ts";
import { passwordList, userList, writeList } from "./wordlists.ts";

interface HydraTarget {
  id: string;
  label: string;
  service: "ssh" | "ftp";
  description: string;
  port: (ctx: ScenarioContext) => number;
  account: (ctx: ScenarioContext) => { user: string; password: string };
  /** hydra -t range: sshd throttles concurrent unauthenticated connections (MaxStartups). */
  tasks: [number, number];
}

const TARGETS: HydraTarget[] = [
  {
    id: "hydra-ssh",
    label: "SSH-BruteForce",
    service: "ssh",
    description: "hydra ssh password guessing (user list x generated passwords)",
    port: (ctx) => ctx.services.ssh.port,
    account: (ctx) => ctx.services.ssh,
    tasks: [4, 8],
  },
  {
    id: "hydra-ftp",
    label: "FTP-BruteForce",
    service: "ftp",
    description: "hydra ftp password guessing (user list x generated passwords)",
    port: (ctx) => ctx.services.ftp.port,
    account: (ctx) => ctx.services.ftp,
    tasks: [4, 16],
  },
];

/** Guesses per hydra run, and the most runs (fresh passwords each) a scenario makes. */
const GUESSES_PER_RUN: [number, number] = [100, 300];
const MAX_RUNS: [number, number] = [1, 3];

async function runHydra(target: HydraTarget, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const account = target.account(ctx);
  const users = userList(rng, intBetween(rng, 2, 5), maybe(rng, 0.6, account.user));
  const userFile = writeList(ctx.workDir, "users.txt", users);
  const perRun = Math.ceil(intBetween(rng, ...GUESSES_PER_RUN) / users.length);
  const runs = intBetween(rng, ...MAX_RUNS);
  // A server that rejects fast lets hydra finish its list early: the attacker then moves on
  // to the next list, so every run guesses passwords not tried before.
  const passwords = passwordList(rng, perRun * runs, maybe(rng, 0.5, account.password));
  const tasks = intBetween(rng, ...target.tasks);
  const spray = chance(rng, 0.3);
  const extraChecks = chance(rng, 0.4);
  let attempts = 0;
  let found = 0;
  let connectErrors = 0;
  let ran = 0;
  let stoppedByBudget = false;
  const problems: string[] = [];
  for (; ran < runs && budget.allows(2_000); ran++) {
    const passFile = writeList(ctx.workDir, `passwords-${ran}.txt`, passwords.slice(ran * perRun, (ran + 1) * perRun));
    const argv = [
      "hydra", ...ipv6Flag(ctx), "-I", "-V", "-L", userFile, "-P", passFile, "-t", String(tasks),
      // -u: one password across all users before the next (spraying) instead of user by user.
      ...(spray ? ["-u"] : []),
      // -e nsr: also the empty password, the login name, and the login name reversed.
      ...(extraChecks && ran === 0 ? ["-e", "nsr"] : []),
      `${target.service}://${urlHost(ctx.victimIp)}:${target.port(ctx)}`,
    ];
    ctx.log(`${argv.join(" ")} (${users.length} users x ${perRun} passwords)`);
    // Hydra works through its lists until done: the budget's end stops it, with no grace.
    const run = await runTool(ctx, budget, argv, { maxMs: budget.remainingMs(), graceMs: 0 });
    attempts += (run.stdout.match(/^\[(?:RE-)?ATTEMPT\]/gm) ?? []).length;
    found += (run.stdout.match(new RegExp(`^\\[\\d+\\]\\[${target.service}\\] host:`, "gm")) ?? []).length;
    connectErrors += (run.stdout + run.stderr).match(/could not connect|Connection refused|timeout/gi)?.length ?? 0;
    if (run.killed) stoppedByBudget = true;
    else if (run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 500, 3_000));
  }
  const notes = [`${ran} runs of ${users.length} users x ${perRun} passwords, ${tasks} tasks, ${found} found`];
  if (stoppedByBudget) notes.push("last run stopped at the budget");
  if (connectErrors > 0) notes.push(`${connectErrors} connection errors`);
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: attempts, note: notes.join(", ") };
}

export const HYDRA_SCENARIOS: Scenario[] = TARGETS.map((target) => ({
  id: target.id,
  label: target.label,
  tool: "hydra",
  ipv6: true,
  description: target.description,
  run: (ctx) => runHydra(target, ctx),
}));
