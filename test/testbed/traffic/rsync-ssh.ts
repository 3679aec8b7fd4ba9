// Benign rsync over ssh (key log-in, as backups and deployments run): push a directory tree to
// the victim, change a few files and push again (rsync sends only the differences), pull a copy
// back; compression, checksums, --delete and a bandwidth limit drawn per session. The victim's
// copy lives in this scenario's work directory (the namespaces share one file system), so it
// goes with the run.
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { remoteTarget } from "./addresses.ts";
import { Budget, runTool } from "./bounded.ts";
import { runUsers, sshOptions, Tally } from "./clients.ts";
import { chance, intBetween, pick, pickWeighted, sample, type Rng } from "./random.ts";

/** A project-like tree: text sources and a few binary blobs, about 100 KB to 6 MB in all. */
function makeTree(rng: Rng, dir: string): string[] {
  const files: string[] = [];
  const folders = ["src", "src/lib", "docs", "assets", "config"];
  for (const f of folders) mkdirSync(join(dir, f), { recursive: true });
  for (let i = intBetween(rng, 8, 30); i > 0; i--) {
    const folder = pick(rng, folders);
    const binary = folder === "assets" || chance(rng, 0.1);
    const name = join(folder, `${binary ? "blob" : "file"}-${i}.${binary ? "bin" : "txt"}`);
    const size = binary ? intBetween(rng, 16 << 10, 1 << 20) : intBetween(rng, 200, 40_000);
    writeFileSync(join(dir, name), binary ? randomBytes(size) : `line ${i}\n`.repeat(Math.ceil(size / 8)));
    files.push(name);
  }
  return files;
}

/** Edits a few files: appended lines, one replaced blob. */
function touchTree(rng: Rng, dir: string, files: string[]): number {
  const changed = sample(rng, files, intBetween(rng, 1, Math.min(5, files.length)));
  for (const name of changed) {
    const path = join(dir, name);
    if (name.endsWith(".bin")) writeFileSync(path, randomBytes(intBetween(rng, 16 << 10, 256 << 10)));
    else writeFileSync(path, `edited ${intBetween(rng, 0, 1e6)}\n`, { flag: "a" });
  }
  return changed.length;
}

function stat(output: string, name: string): number {
  return Number(new RegExp(`${name}: ([\\d,]+)`).exec(output)?.[1]?.replace(/,/g, "") ?? 0);
}

async function rsyncSessions(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const ssh = ["ssh", ...sshOptions(ctx)].join(" ");
  const remoteRoot = join(ctx.workDir, "victim-copy");
  const sessions = await runUsers(ctx, budget, { workers: [1, 2], thinkMs: [1_000, 6_000], minSessionMs: 2_000 }, async (rng, worker) => {
    const local = join(ctx.workDir, `tree-${worker}`);
    const files = makeTree(rng, local);
    const remote = `${remoteTarget(ctx.services.ssh.user, ctx.victimIp)}:${join(remoteRoot, `tree-${worker}`)}/`;
    const flags = [
      "-a", "--stats", "--mkpath", "-e", ssh, "--timeout=10",
      ...(chance(rng, 0.5) ? ["-z"] : []),
      ...(chance(rng, 0.2) ? ["--checksum"] : []),
      ...(chance(rng, 0.3) ? ["--delete"] : []),
      ...(chance(rng, 0.3) ? [`--bwlimit=${intBetween(rng, 256, 4_096)}`] : []),
    ];
    // First a full push, then one or two rounds of edits and pushes, sometimes a pull back.
    const steps = ["push", ...Array.from({ length: intBetween(rng, 1, 2) }, () => pickWeighted(rng, [["update", 3], ["pull", 1]] as const))];
    for (const step of steps) {
      if (!budget.allows(1_500)) break;
      if (step === "update") tally.add("files edited", touchTree(rng, local, files));
      const argv = step === "pull" ? ["rsync", ...flags, remote, join(ctx.workDir, `pulled-${worker}`) + "/"] : ["rsync", ...flags, `${local}/`, remote];
      const run = await runTool(ctx, budget, argv, { maxMs: 30_000 });
      if (run.code === 0) {
        tally.add(`${step === "pull" ? "pulls" : "pushes"}`);
        tally.add("files sent", stat(run.stdout, "Number of regular files transferred"));
        tally.add("KB on the wire", Math.round((stat(run.stdout, "Total bytes sent") + stat(run.stdout, "Total bytes received")) / 1_024));
      } else {
        tally.fail("failed", run);
      }
      await budget.pause(intBetween(rng, 300, 2_000));
    }
  });
  return { actions: tally.get("pushes") + tally.get("pulls"), note: `${sessions} sessions; ${tally.describe()}` };
}

export const RSYNC_SCENARIOS: Scenario[] = [
  { id: "rsync-ssh", label: BENIGN, tool: "rsync", ipv6: true, description: "rsync over ssh: tree pushes, delta updates and pulls (compression, checksums, bwlimit per session)", run: rsyncSessions },
];
