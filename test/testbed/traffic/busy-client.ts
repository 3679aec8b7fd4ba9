// A busy legitimate client: an office behind NAT or a proxy, seen by the victim as ONE address
// with dozens of people behind it. 20-60 browsing users at once (curl-session.ts: page views,
// log-ins, searches), each with its own browser, plus a few download managers fetching several
// files in parallel (curl --parallel), and bursts: the whole office is busy for a few seconds
// (the start of the day, a meeting ending), then calmer. This is what a false positive looks
// like in real life: many connections, many requests, a high rate, all of them harmless.
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { curlGlobOff } from "./addresses.ts";
import { Budget, runTool } from "./bounded.ts";
import { browseRequests, forkRng, loginRequests, searchRequests, sizeOf, Tally } from "./clients.ts";
import { randomBrowser, runCurlSession, webOrigin, type HttpRequest } from "./curl-session.ts";
import { chance, intBetween, pickWeighted, sample, type Rng } from "./random.ts";

/** Busy and calm periods over the run, ms from its start: [start, end) of each busy one. */
function burstSchedule(rng: Rng, durationMs: number): [number, number][] {
  const busy: [number, number][] = [];
  let t = intBetween(rng, 0, 1_500);
  while (t < durationMs) {
    const end = t + intBetween(rng, 2_000, 6_000);
    busy.push([t, end]);
    t = end + intBetween(rng, 1_000, 5_000);
  }
  return busy;
}

async function busyClient(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const started = performance.now();
  const schedule = burstSchedule(ctx.rng, ctx.durationMs);
  const inBurst = () => {
    const t = performance.now() - started;
    return schedule.some(([a, b]) => t >= a && t < b);
  };
  // Think time: short while the office is busy, longer in between.
  const think = (rng: Rng) => (inBurst() ? intBetween(rng, 50, 800) : intBetween(rng, 800, 5_000));
  const browsers = intBetween(ctx.rng, 20, 60);
  const downloaders = intBetween(ctx.rng, 2, 6);
  const rngs = Array.from({ length: browsers + downloaders }, () => forkRng(ctx.rng));
  const origin = webOrigin(ctx);
  const { downloads, pages } = ctx.services.web;
  const weighted = downloads.map((path, i) => [path, (downloads.length - i) ** 2] as const);

  const browse = async (rng: Rng) => {
    const browser = randomBrowser(rng);
    await budget.pause(intBetween(rng, 0, 2_000));
    while (budget.allows(1_000)) {
      const activity = pickWeighted(rng, [["browse", 7], ["login", 1], ["search", 2]] as const);
      const requests: HttpRequest[] =
        activity === "login" ? loginRequests(rng, ctx, chance(rng, 0.2)) : activity === "search" ? searchRequests(rng, ctx) : browseRequests(rng, pages);
      const outcome = await runCurlSession(ctx, budget, browser, requests, intBetween(rng, 90, 600));
      tally.add(`${activity} sessions`);
      tally.add("requests", outcome.sent);
      tally.addStatuses(outcome);
      await budget.pause(think(rng));
    }
  };

  const download = async (rng: Rng) => {
    await budget.pause(intBetween(rng, 0, 3_000));
    while (budget.allows(1_500)) {
      const files = Array.from({ length: intBetween(rng, 2, 8) }, () => pickWeighted(rng, weighted));
      const extra = sample(rng, pages, intBetween(rng, 0, 3));
      const urls = [...files, ...extra];
      const slow = chance(rng, 0.3) ? ["--limit-rate", String(Math.max(64 << 10, Math.round(sizeOf(files[0]!) / intBetween(rng, 2, 6))))] : [];
      const argv = [
        "curl", ...curlGlobOff(ctx), "-s", "--parallel", "--parallel-max", String(intBetween(rng, 2, 8)), "--connect-timeout", "4", "-A", randomBrowser(rng).userAgent,
        "-w", "%{http_code}\\n", ...slow, ...urls.flatMap((p) => ["-o", "/dev/null", origin + p]),
      ];
      const run = await runTool(ctx, budget, argv, { maxMs: 30_000 });
      const ok = (run.stdout.match(/^20\d$/gm) ?? []).length;
      tally.add("parallel downloads", ok);
      if (ok < urls.length) tally.fail("downloads failed", run);
      await budget.pause(think(rng));
    }
  };

  await Promise.all(rngs.map((rng, i) => (i < browsers ? browse(rng) : download(rng))));
  return {
    actions: tally.get("requests") + tally.get("parallel downloads"),
    note: `${browsers} browsing users + ${downloaders} download managers from one address, ${schedule.length} busy periods; ${tally.describe()}`,
  };
}

export const BUSY_CLIENT_SCENARIOS: Scenario[] = [
  { id: "busy-nat-client", label: BENIGN, tool: "curl", ipv6: true, description: "one address, many people (NAT/proxy): 20-60 concurrent browsers, parallel downloads, bursts", run: busyClient },
];
