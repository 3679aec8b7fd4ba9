// Benign password log-ins over ssh: an employee's account (services/ssh-password-account.ts)
// that signs in with its password and succeeds, which is what tells a person from a password
// guesser. Commands run directly or typed into a shell, files copied with scp and sftp to and
// from the home directory; now and then the first password typed is wrong and the second right,
// in the same connection, as people do. OpenSSH reads the password from SSH_ASKPASS (forced), a
// small script per session that answers the prompts in turn.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SSH_PASSWORD_ACCOUNT } from "../services/ssh-password-account.ts";
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { remoteTarget } from "./addresses.ts";
import { Budget, runTool, type ToolRun } from "./bounded.ts";
import { runUsers, shellWord, SSH_COMMANDS, Tally, typo } from "./clients.ts";
import { chance, intBetween, pick, pickWeighted, sample } from "./random.ts";

let askpassCounter = 0;

/** An askpass script answering the prompts of one session in turn (the last answer repeats). */
function askpass(dir: string, answers: string[]): string {
  const file = join(dir, `askpass-${askpassCounter++}.sh`);
  const state = `${file}.n`;
  const cases = answers.map((a, i) => `${i}) printf '%s\\n' ${shellWord(a)} ;;`).join("\n  ");
  writeFileSync(file, `#!/bin/sh
n=$(cat ${shellWord(state)} 2>/dev/null || echo 0)
echo $((n + 1)) > ${shellWord(state)}
case "$n" in
  ${cases}
  *) printf '%s\\n' ${shellWord(answers.at(-1) ?? "")} ;;
esac
`);
  chmodSync(file, 0o700);
  return file;
}

function passwordOptions(port: number, flag: "-p" | "-P"): string[] {
  return [
    flag, String(port), "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=3",
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
  ];
}

async function sshPassword(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const { user, password } = SSH_PASSWORD_ACCOUNT;
  const port = ctx.services.ssh.port;
  // ssh takes an IPv6 address bare; scp and sftp want it bracketed (their ':' starts a path).
  const target = `${user}@${ctx.victimIp}`;
  const copyTarget = remoteTarget(user, ctx.victimIp);
  let copies = 0;
  // Without the account (sshd not started with it) every log-in fails: that would be password
  // guessing labelled benign, so the scenario stops making sessions at the first refusal.
  let accountMissing = false;
  const done = () => [...tally.counts.entries()].filter(([k]) => k.includes("sessions")).reduce((sum, [, n]) => sum + n, 0);
  await runUsers(ctx, budget, { workers: [1, 3], thinkMs: [800, 6_000], minSessionMs: 2_000 }, async (rng, worker) => {
    if (accountMissing) return;
    const mistyped = chance(rng, 0.15);
    const env = ["env", `SSH_ASKPASS=${askpass(ctx.workDir, mistyped ? [typo(rng, password), password] : [password])}`, "SSH_ASKPASS_REQUIRE=force"];
    const kind = pickWeighted(rng, [["exec", 4], ["typed", 3], ["scp-up", 1], ["scp-down", 1], ["sftp", 1]] as const);
    const local = join(ctx.workDir, `copy-${worker}-${copies++}`);
    let run: ToolRun;
    switch (kind) {
      case "exec":
        run = await runTool(ctx, budget, [...env, "ssh", ...passwordOptions(port, "-p"), target, sample(rng, SSH_COMMANDS, intBetween(rng, 1, 3)).join("; ")], { maxMs: 15_000 });
        break;
      case "typed": {
        const steps = sample(rng, SSH_COMMANDS, intBetween(rng, 2, 5)).flatMap((c) => [`echo ${shellWord(c)}`, `sleep ${(intBetween(rng, 3, 25) / 10).toFixed(1)}`]);
        const ssh = [...env, "ssh", "-T", ...passwordOptions(port, "-p"), target].map(shellWord).join(" ");
        run = await runTool(ctx, budget, ["bash", "-c", `{ ${steps.join("; ")}; echo exit; } | ${ssh}`], { maxMs: 20_000 });
        break;
      }
      case "scp-up": {
        // A document of a few kilobytes to a few hundred, into the home directory.
        writeFileSync(local, "report line\n".repeat(intBetween(rng, 200, 30_000)));
        run = await runTool(ctx, budget, [...env, "scp", "-q", ...passwordOptions(port, "-P"), local, `${copyTarget}:report-${worker}-${copies}.txt`], { maxMs: 15_000 });
        break;
      }
      case "scp-down":
        run = await runTool(ctx, budget, [...env, "scp", "-q", ...passwordOptions(port, "-P"), `${copyTarget}:${pick(rng, ["/etc/os-release", "/etc/services", "/etc/protocols"])}`, local], { maxMs: 15_000 });
        break;
      default: {
        // sftp commands from stdin (-b would force batch mode, which disables passwords).
        const commands = ["pwd", "ls -l", ...(chance(rng, 0.5) ? ["get /etc/hostname hostname.txt"] : []), "ls", "bye"];
        const sftp = [...env, "sftp", ...passwordOptions(port, "-P"), copyTarget].map(shellWord).join(" ");
        run = await runTool(ctx, budget, ["bash", "-c", `cd ${shellWord(ctx.workDir)} && printf '%s\\n' ${commands.map(shellWord).join(" ")} | ${sftp}`], { maxMs: 15_000 });
      }
    }
    const ok = run.code === 0 && (kind !== "exec" && kind !== "typed" ? true : run.stdout.trim() !== "");
    if (ok) tally.add(`${kind} sessions${mistyped ? " after a typo" : ""}`);
    else tally.fail("failed", run);
    if (!ok && /Permission denied/.test(run.stderr) && tally.get("failed") === 1 && done() === 0) accountMissing = true;
  });
  return { actions: done(), note: `${done() + tally.get("failed")} password sessions as ${user} on port ${port}; ${tally.describe()}${accountMissing ? "; stopped: the victim's sshd refuses the account (is sshd started withPasswordAccount? services/ssh-password-account.ts)" : ""}` };
}

export const SSH_PASSWORD_SCENARIOS: Scenario[] = [
  { id: "ssh-password-session", label: BENIGN, tool: "ssh", ipv6: true, description: "ssh password log-ins that succeed (some after one typo): commands, typed shells, scp, sftp", run: sshPassword },
];
