// Benign request/response UDP: name lookups with dig against the victim's resolver and time
// polls with ntpdig against its NTP server (services/dns-ntp-server.ts, on the usual ports 53 and
// 123). Lookups come in small batches, as an application resolves what it needs: zone hosts and
// aliases, mail and text records, names outside the zone, the odd typo (NXDOMAIN), sometimes over
// TCP. Time polls take one to a few samples with a gap, then wait. Never sets the clock.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DNS_PORT, NTP_PORT } from "../services/dns-ntp.ts";
import { ZONE, ZONE_ALIASES, ZONE_HOSTS } from "../services/dns-ntp-server.ts";
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { Budget, runTool } from "./bounded.ts";
import { runUsers, Tally } from "./clients.ts";
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

const OUTSIDE = ["www.debian.org", "deb.debian.org", "security.debian.org", "github.com", "api.github.com", "www.wikipedia.org", "registry.npmjs.org", "pypi.org", "time.cloudflare.com", "ocsp.digicert.com"];

function lookup(rng: Rng): string {
  const hosts = Object.keys(ZONE_HOSTS).filter(Boolean);
  const kind = pickWeighted(rng, [["host", 5], ["alias", 2], ["apex", 1], ["outside", 3], ["typo", 1]] as const);
  switch (kind) {
    case "alias":
      return `${pick(rng, Object.keys(ZONE_ALIASES))}.${ZONE} ${pick(rng, ["A", "A", "AAAA"])}`;
    case "apex":
      return `${ZONE} ${pick(rng, ["MX", "TXT", "NS", "SOA", "A"])}`;
    case "outside":
      return `${pick(rng, OUTSIDE)} ${pick(rng, ["A", "A", "AAAA"])}`;
    case "typo": {
      const h = pick(rng, hosts);
      return `${h.slice(0, -1)}${pick(rng, ["x", "1", "s"])}.${ZONE} A`;
    }
    default:
      return `${pick(rng, hosts)}.${ZONE} ${pickWeighted(rng, [["A", 5], ["AAAA", 2]] as const)}`;
  }
}

let batchCounter = 0;

async function dnsLookups(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  // No server (services/dns-ntp.ts not started): the victim refuses, and the scenario stops
  // rather than send lookups nobody answers.
  let refused = false;
  let batches = 0;
  await runUsers(ctx, budget, { workers: [1, 4], thinkMs: [300, 4_000], minSessionMs: 1_000 }, async (rng) => {
    if (refused) return;
    batches++;
    const queries = Array.from({ length: pickWeighted(rng, [[1, 3], [intBetween(rng, 2, 5), 3], [intBetween(rng, 6, 15), 1]] as const) }, () => lookup(rng));
    const batch = join(ctx.workDir, `dig-${batchCounter++}.txt`);
    writeFileSync(batch, `${queries.join("\n")}\n`);
    const overTcp = chance(rng, 0.1);
    const argv = [
      "dig", `@${ctx.victimIp}`, "-p", String(DNS_PORT), "-f", batch, "+tries=1", "+time=2", "+noall", "+comments",
      ...(overTcp ? ["+tcp"] : []), ...(chance(rng, 0.2) ? ["+nocookie"] : []), ...(chance(rng, 0.1) ? ["+noedns"] : []),
    ];
    const run = await runTool(ctx, budget, argv, { maxMs: queries.length * 2_500 + 3_000 });
    const answered = (run.stdout.match(/status: (NOERROR|NXDOMAIN)/g) ?? []).length;
    tally.add("queries", queries.length);
    tally.add("answers", answered);
    tally.add("NXDOMAIN", (run.stdout.match(/status: NXDOMAIN/g) ?? []).length);
    if (overTcp) tally.add("tcp batches");
    if (answered < queries.length) {
      // dig reports its failures as ";;" comments on stdout.
      const why = /;; ((?:connection timed out|communications error)[^\n]*)/.exec(run.stdout)?.[1];
      tally.fail("unanswered batches", why ? { ...run, stderr: `${why} (is the victim's DNS server up? services/dns-ntp.ts)` } : run);
      if (answered === 0 && why?.includes("connection refused") && tally.get("answers") === 0) refused = true;
    }
  });
  return { actions: tally.get("answers"), note: `${batches} batches; ${tally.describe()}${refused ? "; stopped: nothing listens on the victim's DNS port" : ""}` };
}

interface NtpdigReport {
  offset?: number;
  stratum?: number;
}

async function ntpSync(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  let worstOffsetMs = 0;
  let unanswered = false;
  let polls = 0;
  await runUsers(ctx, budget, { workers: [1, 2], thinkMs: [1_000, 8_000], minSessionMs: 1_500 }, async (rng) => {
    // As for DNS: with no server there, stop once two polls and none before got no answer.
    if (unanswered) return;
    polls++;
    const samples = pickWeighted(rng, [[1, 3], [intBetween(rng, 2, 4), 2]] as const);
    const gapMs = intBetween(rng, 100, 1_500);
    // ntpdig talks to port 123 only; the port constant is that.
    const argv = ["ntpdig", "-j", "-t", "2", "-p", String(samples), "-g", String(gapMs), ctx.victimIp];
    const run = await runTool(ctx, budget, argv, { maxMs: samples * (gapMs + 2_500) + 4_000, graceMs: 2_000 });
    tally.add("samples", samples);
    let report: NtpdigReport = {};
    try {
      report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as NtpdigReport;
    } catch {
      // no answer: counted below
    }
    if (run.code === 0 && typeof report.offset === "number") {
      tally.add("synchronised", samples);
      worstOffsetMs = Math.max(worstOffsetMs, Math.abs(report.offset * 1_000));
    } else {
      tally.fail("unanswered", run.stderr ? run : { ...run, stderr: `no answer from udp/${NTP_PORT} (is the victim's NTP server up? services/dns-ntp.ts)` });
      if (tally.get("synchronised") === 0 && tally.get("unanswered") >= 2) unanswered = true;
    }
  });
  return {
    actions: tally.get("synchronised"),
    note: `${polls} polls; ${tally.describe()}; largest offset ${worstOffsetMs.toFixed(2)} ms${unanswered ? "; stopped: no answer from the victim's NTP port" : ""}`,
  };
}

export const UDP_CLIENT_SCENARIOS: Scenario[] = [
  { id: "dns-lookups", label: BENIGN, tool: "dig", ipv6: true, description: "dig lookup batches against the victim's resolver (zone hosts, MX/TXT, outside names, typos, some TCP)", run: dnsLookups },
  { id: "ntp-sync", label: BENIGN, tool: "ntpdig", ipv6: true, description: "ntpdig time polls of one to a few samples against the victim's NTP server", run: ntpSync },
];
