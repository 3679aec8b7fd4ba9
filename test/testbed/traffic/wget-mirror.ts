// Benign wget use beside the curl clients: recursive fetches of the site (a mirror or an offline
// copy, robots.txt honoured, a polite random wait), single pages with their images and scripts
// (-p), timestamped re-fetches of what was fetched before (-N: conditional requests), resumed
// downloads (-c: a Range request for the rest of a partial file) and plain downloads, some
// rate-limited. Each user keeps its own download directory in the scenario's work directory.
import { existsSync, mkdirSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { Budget, runTool } from "./bounded.ts";
import { runUsers, sizeOf, splitSite, Tally } from "./clients.ts";
import { randomBrowser, webOrigin } from "./curl-session.ts";
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

/** Files wget reports fetched in -nv mode ('URL:... -> "file"'). */
function fetched(output: string): number {
  return (output.match(/ -> "/g) ?? []).length;
}

function common(rng: Rng): string[] {
  return ["-nv", "--tries=1", "--timeout=10", ...(chance(rng, 0.6) ? ["-U", randomBrowser(rng).userAgent] : [])];
}

async function wgetMirror(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const origin = webOrigin(ctx);
  const { html } = splitSite(ctx.services.web.pages);
  // Small files far more often than large ones; the 8 MB file rarely.
  const downloads = ctx.services.web.downloads.map((path, i, all) => [path, all.length - i] as const);
  const sessions = await runUsers(ctx, budget, { workers: [1, 3], thinkMs: [500, 4_000], minSessionMs: 1_500 }, async (rng, user) => {
    const dir = join(ctx.workDir, `wget-${user}`);
    mkdirSync(dir, { recursive: true });
    const kind = pickWeighted(rng, [["recursive", 3], ["page", 3], ["refresh", 2], ["resume", 1], ["download", 3]] as const);
    let argv: string[];
    let maxMs = 20_000;
    switch (kind) {
      case "recursive": {
        const start = pick(rng, ["/", "/blog/", "/docs/manual.html", "/products.html"]);
        const wait = (intBetween(rng, 1, 10) / 10).toFixed(1);
        argv = ["wget", ...common(rng), "-r", "-l", String(intBetween(rng, 1, 3)), "-np", "-nH", "-P", join(dir, "mirror"), `--wait=${wait}`, "--random-wait",
          ...(chance(rng, 0.4) ? ["-p"] : []), ...(chance(rng, 0.3) ? ["-k"] : []), origin + start];
        maxMs = 30_000;
        break;
      }
      case "page":
        argv = ["wget", ...common(rng), "-p", "-nH", "-P", join(dir, "pages"), origin + pick(rng, html)];
        break;
      case "refresh":
        // What this user fetched before is fetched again only if it changed (it has not).
        argv = ["wget", ...common(rng), "-N", "-nH", "-x", "-P", join(dir, "pages"), origin + pick(rng, html)];
        break;
      case "resume": {
        const path = pickWeighted(rng, downloads.filter(([p]) => sizeOf(p) >= 64 << 10));
        const file = join(dir, "resume", path.split("/").pop()!);
        mkdirSync(join(dir, "resume"), { recursive: true });
        // Leave a partial file as an interrupted download does, then continue it.
        if (existsSync(file) && statSync(file).size > 0) truncateSync(file, Math.floor(statSync(file).size / intBetween(rng, 2, 5)));
        argv = ["wget", ...common(rng), "-c", "-O", file, ...(chance(rng, 0.5) ? [`--limit-rate=${intBetween(rng, 64, 1_024)}k`] : []), origin + path];
        break;
      }
      default: {
        const path = pickWeighted(rng, downloads);
        argv = ["wget", ...common(rng), "-O", "/dev/null", ...(chance(rng, 0.3) ? [`--limit-rate=${Math.max(32, Math.round(sizeOf(path) / 1_024 / intBetween(rng, 2, 6)))}k`] : []), origin + path];
      }
    }
    const run = await runTool(ctx, budget, argv, { maxMs });
    const files = fetched(run.stderr);
    tally.add("files", files);
    // wget exits 8 on an HTTP error (robots.txt 404 in a mirror is one): the files it got count.
    if (run.code === 0 || files > 0) tally.add(`${kind} runs`);
    else tally.fail("failed", run);
  });
  return { actions: tally.get("files"), note: `${sessions} wget runs; ${tally.describe()}` };
}

export const WGET_SCENARIOS: Scenario[] = [
  { id: "wget-mirror", label: BENIGN, tool: "wget", ipv6: true, description: "wget recursive site fetches, pages with requisites, -N refreshes, -c resumes, downloads", run: wgetMirror },
];
