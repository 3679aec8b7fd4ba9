// HTTP flood with GoldenEye (Debian's goldeneye): worker processes each open a batch of
// keep-alive connections and send GET/POST requests with random query strings, user agents,
// referers and cookies, reconnecting batch after batch until killed at the budget.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool } from "./bounded.ts";
import { webOrigin } from "./curl-session.ts";
import { intBetween, pickWeighted } from "./random.ts";

const GOLDENEYE = "/usr/bin/goldeneye";

/** GoldenEye's host from its URL: everything before the first ':' of the authority. */
const HOST_FROM_URL = "self.host = parsedUrl.netloc.split(':')[0]";

/**
 * Debian's GoldenEye fails every request under Python >= 3.10 (random.randint with a float
 * bound raises before anything is sent, so it only spins). The copy it runs fixes that one
 * division and is otherwise the packaged tool. For IPv6 it also takes the host from the URL's
 * hostname (the bare address) instead of cutting "[2001:..." at the first ':'; its Host and
 * Referer headers then carry the address without brackets, which nginx accepts.
 */
function patchedGoldenEye(workDir: string, ipv6: boolean): string {
  const source = readFileSync(GOLDENEYE, "utf8");
  let fixed = source.replace("random.randint(1,len(acceptEncoding)/2)", "random.randint(1,len(acceptEncoding)//2)");
  if (ipv6) {
    if (!fixed.includes(HOST_FROM_URL)) throw new Error(`${GOLDENEYE}: no "${HOST_FROM_URL}" to make it take an IPv6 address (another GoldenEye version?)`);
    fixed = fixed.replace(HOST_FROM_URL, "self.host = parsedUrl.hostname");
  }
  const path = join(workDir, "goldeneye.py");
  writeFileSync(path, fixed);
  return path;
}

async function runGoldenEye(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  if (!existsSync(GOLDENEYE)) return { actions: 0, note: `${GOLDENEYE} is not installed (apt-get install goldeneye)` };
  const script = patchedGoldenEye(ctx.workDir, ctx.family === 6);
  // Bounded to a few worker processes: each one is a busy Python process on a 2-core testbed.
  const workers = intBetween(rng, 2, 3);
  const sockets = intBetween(rng, 10, 40);
  const method = pickWeighted(rng, [["get", 3], ["random", 2], ["post", 1]] as const);
  const seconds = Math.min(budget.remainingMs() / 1_000, intBetween(rng, 15, 60));
  // Unbuffered (-u) so the strike counter survives the kill that ends the run.
  const argv = ["/usr/bin/python3", "-u", script, `${webOrigin(ctx)}/`, "-w", String(workers), "-s", String(sockets), "-m", method];
  ctx.log(`${argv.join(" ")} (for ${seconds.toFixed(0)} s)`);
  // GoldenEye runs until stopped: its time limit is its duration, with no grace.
  const run = await runTool(ctx, budget, argv, { maxMs: seconds * 1_000, graceMs: 0 });
  const strikes = [...run.stdout.matchAll(/(\d+) GoldenEye strikes hit\. \((\d+) Failed\)/g)].at(-1);
  const hits = Number(strikes?.[1] ?? 0);
  const failed = Number(strikes?.[2] ?? 0);
  const notes = [`${workers} workers x ${sockets} sockets, method ${method}, ${(run.elapsedMs / 1_000).toFixed(1)} s, ${hits} responses, ${failed} failed batches`];
  if (!run.killed && run.code !== 0) notes.push(`error: ${firstErrorLine(run)}`);
  return { actions: hits, note: notes.join(", ") };
}

export const HTTP_FLOOD_SCENARIOS: Scenario[] = [
  {
    id: "goldeneye-http-flood",
    label: "DoS-HTTPFlood",
    tool: "goldeneye",
    ipv6: true,
    description: "GoldenEye keep-alive HTTP flood with random URLs, headers and methods",
    run: runGoldenEye,
  },
];
