// Password guessing against the victim's SSH and FTP servers with Ncrack (nmap's cracker): its
// timing templates (-T2..-T5) and per-service connection options (-g: least and most parallel
// connections, attempts per connection, delay between connections, retries) drawn per run, and
// its own service time-out (to=) as the bound. Ncrack 0.7's ssh module may crash at the end of a
// run against a current OpenSSH; the attempts it made are counted from its progress lines.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { chance, intBetween, pickWeighted } from "./random.ts";
import { FTP_TARGET, guessLists, largest, SSH_TARGET, type LoginTarget } from "./login-targets.ts";

async function runNcrack(target: LoginTarget, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const runs = intBetween(rng, 1, 3);
  const lists = guessLists(rng, ctx, target, runs, [80, 300], "ncrack");
  let attempts = 0;
  let found = 0;
  let crashed = 0;
  let ran = 0;
  const described: string[] = [];
  const problems: string[] = [];
  for (; ran < runs && budget.allows(2_500); ran++) {
    const timing = pickWeighted(rng, [["-T2", 1], ["-T3", 3], ["-T4", 3], ["-T5", 1]] as const);
    const opts = [
      `CL=${target.service === "ssh" ? intBetween(rng, 2, 10) : intBetween(rng, 4, 30)}`,
      ...(chance(rng, 0.4) ? [`at=${intBetween(rng, 1, target.service === "ssh" ? 6 : 3)}`] : []),
      ...(chance(rng, 0.3) ? [`cd=${intBetween(rng, 10, 500)}ms`] : []),
      ...(chance(rng, 0.3) ? [`cr=${intBetween(rng, 1, 5)}`] : []),
      // Ncrack stops the service after this long: the run ends by itself within the budget.
      `to=${Math.max(2, Math.floor(budget.remainingMs() / 1_000) - 1)}s`,
    ];
    const argv = ["ncrack", "-v", "-d1", timing, "-U", lists.userFile, "-P", lists.passwordFiles[ran]!, "-g", opts.join(","), `${target.service}://${ctx.victimIp}:${target.port(ctx)}`];
    ctx.log(`${argv.join(" ")} (${lists.users.length} users x ${lists.perRun} passwords)`);
    const run = await runTool(ctx, budget, argv, { maxMs: budget.remainingMs() + 2_000, graceMs: 0 });
    const out = run.stdout + run.stderr;
    attempts += largest(out, /Attempts: total \d+ completed (\d+)/g);
    found += (out.match(/^Discovered credentials on /gm) ?? []).length;
    described.push(`${timing} ${opts.slice(0, -1).join(",") || "defaults"}`);
    if (run.code === 139) crashed++;
    else if (!run.killed && run.code !== 0) problems.push(firstErrorLine(run));
    await budget.pause(intBetween(rng, 500, 3_000));
  }
  const notes = [`${ran} runs of ${lists.users.length} users x ${lists.perRun} passwords (${described.join("; ")}), ${found} found`];
  if (crashed > 0) notes.push(`${crashed} runs ended by a crash of ncrack`);
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: attempts, note: notes.join(", ") };
}

export const NCRACK_SCENARIOS: Scenario[] = [SSH_TARGET, FTP_TARGET].map((target) => ({
  id: `ncrack-${target.service}`,
  label: target.label,
  tool: "ncrack",
  ipv6: { unsupported: "Ncrack 0.7 splits every target at its first ':' (\"Invalid port number\" for any IPv6 address, bracketed, bare or from -iX), -6 or not" },
  description: `ncrack ${target.service} password guessing (timing templates, connection options per run)`,
  run: (ctx) => runNcrack(target, ctx),
}));
