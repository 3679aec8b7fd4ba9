// `xids testbed`: the real-time evaluation (and, with --record, the data set recorder).
import { parseFlags, UsageError } from "../../../core/cli/args.ts";
import type { Command } from "../../../core/cli/command.ts";
import { capPerScenario, isNeighbourDiscovery, leaveOut, writeFlowsCsv } from "../dataset.ts";
import { evaluateRun } from "../evaluate.ts";
import { formatSummary, summaryJson } from "../report.ts";
import { formatShadowSummary } from "../../../client/shadow-summary.ts";
import { DEFAULT_TIMING, runTestbed } from "../run.ts";
import { BENIGN } from "../scenario.ts";
import { MATRIX_SCENARIOS } from "../matrix.ts";
import { ALL_SCENARIOS, selectScenarios } from "../scenarios.ts";

/** The model the testbed runs by default: the shipped one (core/config/config.ts SHIPPED_MLP). */
export const TESTBED_MODEL = "models/artifacts/matrix-mlp";
export const TESTBED_SEED = 2;
const RECORD_CAP = 2_000;
/** The tools an IPv6 run skips (their scenarios declare why), for the help text. */
const NO_IPV6_TOOLS = [...new Set([...ALL_SCENARIOS, ...MATRIX_SCENARIOS].filter((s) => s.ipv6 !== true).map((s) => s.tool))].join(", ");

const spec = {
  json: "boolean", model: "string", "no-model": "boolean", "alert-only": "boolean", seed: "number", record: "string",
  scenarios: "string", links: "string", capture: "string", family: "string", "attack-ms": "number", "stagger-ms": "number", verbose: "boolean", "max-per-scenario": "number", shadow: "string",
} as const;

export const command: Command = {
  name: "testbed",
  summary: "real-time evaluation: real services, real benign and attack tools, xids in the kernel (needs root)",
  help: `usage: xids testbed [--json] [--model DIR | --no-model] [--alert-only] [--seed N] [--record FILE]
                    [--scenarios id,id,...|matrix] [--links none|drawn] [--attack-ms N] [--stagger-ms N]
                    [--family 4|6] [--shadow DIR] [--verbose]

Builds a victim namespace running nginx (with a login app), OpenSSH, vsftpd and iperf3, protected
by xids (native XDP on every link, the in-kernel model blocking attackers), and one namespace per
scenario: benign clients (curl, ssh, ftp, iperf3) for the whole run and real attack tools (nmap,
hping3, hydra, slowhttptest, goldeneye, web brute force and XSS) one after another. Every flow the
kernel extracts is labelled by its source. Prints per-category accuracy and MTTF, F1 / FPR, which
sources were blocked and the detection latency of each attack (first attack packet to first packet
dropped). Everything is torn down afterwards.

  --json            print one JSON object as the last line
  --model DIR       in-kernel model artifact (default ${TESTBED_MODEL})
  --no-model        no model: flows get no verdict (recording)
  --alert-only      attack verdicts do not block (recording a data set)
  --seed N          varies every generator's counts, order and timing (default ${TESTBED_SEED})
  --record FILE     write the labelled flows to FILE as CSV (the data set format of models/datasets/matrix;
                    FILE ending in .gz is gzipped; its Run column reads seed<N>)
  --max-per-scenario N  with --record: keep at most N flows per attack scenario, its first 500 and a
                    seeded random sample of the rest (default ${RECORD_CAP}; floods make thousands
                    of near-identical flows); benign flows are all kept
  --scenarios ...   run only these ids, or the groups "default" (all of: ${ALL_SCENARIOS.map((s) => s.id).join(", ")})
                    and "matrix" (every attack class by two or more tools, see matrix.ts)
  --links MODE      none: plain veth links (default); drawn: each host's link gets a delay, jitter,
                    rate and loss band drawn from the seed (a real relay, see link-conditions.ts)
  --capture FILE    also capture every packet the victim receives (inbound, all links) to FILE
                    (pcapng), to replay through the kernel and the reference (\`xids replay\`)
  --family 4|6      the links' address family (default 4: 198.18.(10+i).0/24 per host). 6: IPv6 only,
                    2001:2:0:(10+i)::/64 per host (host ::2, victim ::1), the victim's services on
                    IPv6 too, flows labelled by their IPv6 source; scenarios whose tools have no
                    IPv6 (${NO_IPV6_TOOLS}) are skipped and listed with the reason
  --attack-ms N     each attack's budget (default ${DEFAULT_TIMING.attackMs})
  --stagger-ms N    gap between attack starts (default ${DEFAULT_TIMING.attackStaggerMs})
  --shadow DIR      also run DIR as a shadow model (\`xids model shadow\`) beside the in-kernel model:
                    every flow of the run judged by both, the agreement and the differing flows
                    printed after the summary
  --verbose         the agent logs at info level

Exit status: 0 when every attacking source was blocked and no benign client was (with --alert-only
or --no-model: when the run completed).

example:
  bun run xids testbed --scenarios default,matrix --no-model --links drawn --seed 11 --record models/datasets/matrix/seed11.csv.gz --max-per-scenario 3000`,
  async run(args) {
    const f = parseFlags(args, spec);
    if (f.model && f["no-model"]) throw new UsageError("--model and --no-model exclude each other");
    const scenarios = selectScenarios(f.scenarios ? f.scenarios.split(",").map((s) => s.trim()).filter(Boolean) : []);
    const links = f.links ?? "none";
    if (links !== "none" && links !== "drawn") throw new UsageError(`--links: expected none or drawn, got "${links}"`);
    const familyText = f.family ?? "4";
    if (familyText !== "4" && familyText !== "6") throw new UsageError(`--family: expected 4 or 6, got "${familyText}"`);
    const family = familyText === "6" ? 6 : 4;
    const model = f["no-model"] ? null : (f.model ?? TESTBED_MODEL);
    const protect = !f["alert-only"] && model !== null;
    const run = await runTestbed({
      scenarios,
      model,
      protect,
      seed: f.seed ?? TESTBED_SEED,
      attackMs: f["attack-ms"] ?? DEFAULT_TIMING.attackMs,
      attackStaggerMs: f["stagger-ms"] ?? DEFAULT_TIMING.attackStaggerMs,
      leadMs: DEFAULT_TIMING.leadMs,
      tailMs: DEFAULT_TIMING.tailMs,
      prefix: "xidsd",
      log: (line) => console.log(line),
      agentLogLevel: f.verbose ? "info" : "warn",
      links,
      capture: f.capture,
      family,
      shadow: f.shadow,
    });
    if (run.capture) console.log(`captured ${(run.capture.bytes / 1e6).toFixed(1)} MB to ${run.capture.path} (${run.capture.report.split("\n").pop()})`);
    if (f.record) {
      // A host's own neighbour discovery is not its scenario's traffic (an attack host's would be
      // mislabelled): left out (Seq renumbered), and said so. The ping scenario's echoes stay.
      const nd = run.flows.filter(isNeighbourDiscovery);
      const flows = leaveOut(run.flows, isNeighbourDiscovery);
      // Benign flows are all kept: a false-positive rate of 0.1 % needs every one of them.
      const benign = flows.filter((x) => x.label === BENIGN);
      const kept = [...benign, ...capPerScenario(flows.filter((x) => x.label !== BENIGN), f["max-per-scenario"] ?? RECORD_CAP, run.seed)];
      writeFlowsCsv(f.record, kept, `seed${run.seed}`);
      console.log(`recorded ${kept.length} of ${run.flows.length} labelled flows to ${f.record}` + (nd.length ? ` (${nd.length} ICMPv6 neighbour-discovery flows left out)` : ""));
    }
    const ev = evaluateRun(run);
    console.log(`\n${formatSummary(run, ev)}`);
    if (run.shadow) console.log(`\n${formatShadowSummary(run.shadow)}`);
    if (f.json) console.log(JSON.stringify(summaryJson(run, ev)));
    if (!protect) return 0;
    return ev.attacks_blocked === ev.attacks_total && ev.benign_blocked === 0 ? 0 : 1;
  },
};
