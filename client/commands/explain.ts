import { resolve } from "node:path";
import type { Command } from "../../core/cli/command.ts";
import { UsageError } from "../../core/cli/args.ts";
import { loadArtifact, type MlpModel } from "../../models/artifact/load.ts";
import { artifactBaseline, loadBaseline } from "../../models/explain/baseline.ts";
import { CONNECTION_HELP, fmtDuration, parseWithConnection, withControl } from "../connection.ts";
import { explainReport, type ExplainReport, type FlowReport } from "../../models/explain/report.ts";

const USAGE = "usage: xids explain <address> [--json] [--all] [--top <n>] [--permutations <n>] [--artifact <dir>] [--baseline <file>]";

export const command: Command = {
  name: "explain",
  summary: "why a source is blocked: its block, verdicts against the policy, each flow's top features",
  help: `${USAGE}

Asks the running core what it knows about a source (its block entry, the block policy, the
source's latest flows with their verdicts) and explains each attack verdict's score with the
model's reference implementation: Shapley values of each input against a benign baseline row,
estimated by seeded permutations, which sum to the score minus the baseline's score.
  --json              one JSON object (every flow, every feature's contribution)
  --all               explain benign flows too (default: the ones with an attack verdict)
  --top <n>           features shown per flow (default 5)
  --permutations <n>  permutations per flow, rounded up to even (default 64)
  --artifact <dir>    the model artifact (default: the one the core's first model names)
  --baseline <file>   the baseline row (default: <artifact>/baseline.json)

${CONNECTION_HELP}

example: xids explain 198.18.0.66`,
  async run(args) {
    const f = parseWithConnection(args, { json: "boolean", all: "boolean", top: "number", permutations: "number", artifact: "string", baseline: "string" });
    if (f._.length !== 1) throw new UsageError(`expected one address: ${USAGE}`);
    const top = f.top ?? 5, perms = f.permutations ?? 64;
    if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top: expected a whole number >= 1, got ${top}`);
    if (!Number.isInteger(perms) || perms < 1 || perms > 10_000) throw new UsageError(`--permutations: expected a whole number in [1, 10000], got ${perms}`);
    return withControl("explain", f, async (c) => {
      const res = await c.explain(f._[0]!);
      const dir = f.artifact ?? res.modelArtifact;
      if (!dir) throw new Error(`the core's model "${res.modelTarget}" names no artifact to explain its scores with; give --artifact <dir>`);
      const model = loadArtifact(dir);
      if (model.kind !== "mlp-int32") throw new Error(`${dir} is a ${model.kind} model; explain computes contributions for mlp-int32 (the in-kernel MLP) only`);
      const baseline = f.baseline ? loadBaseline(f.baseline) : artifactBaseline(dir);
      const rep = explainReport(res, model as MlpModel, baseline, resolve(dir), { permutations: perms + (perms % 2), top, all: f.all === true });
      if (f.json) console.log(JSON.stringify(rep));
      else printReport(rep, f.all === true);
      return 0;
    });
  },
};

const PROTO: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6" };
const hostPort = (a: string, p: number) => (a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`);
const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)}`;

function flowLine(f: FlowReport): string {
  const tuple = `${PROTO[f.protocol] ?? `proto ${f.protocol}`} ${hostPort(f.src, f.srcPort)} -> ${hostPort(f.dst, f.dstPort)}`;
  const verdict = f.verdict === "none" ? "no verdict" : `${f.verdict.toUpperCase()} score ${f.score} (${f.verdictBy})`;
  const evidence = f.verdict === "attack" && f.evidence ? `  evidence ${f.evidence}` : "";
  return `  ${f.seconds >= 0 ? "+" : ""}${f.seconds.toFixed(3)}s  ${tuple}  ${verdict}${evidence}${f.action ? `  ${f.action}` : ""}${f.decision && !f.inWindow ? "  (before the window: not counted)" : ""}`;
}

function printFlow(f: FlowReport, features: boolean): void {
  console.log(flowLine(f));
  if (!features) return;
  if (f.error) console.log(`      not explained: ${f.error}`);
  for (const x of f.explanation?.top ?? []) console.log(`      ${signed(x.contribution).padStart(10)}  ${x.name} = ${x.value} (baseline ${x.baseline})`);
  for (const w of f.warnings) console.log(`      note: ${w}`);
}

const LATER_SHOWN = 5;

function printReport(r: ExplainReport, all: boolean): void {
  const p = r.policy!;
  console.log(r.block
    ? `${r.address}: blocked, reason ${r.block.reason} = ${r.block.reasonName}, ${r.block.expiresInMs ? `expires in ${fmtDuration(r.block.expiresInMs)}` : "permanent"}, ${r.block.hits} packets dropped`
    : `${r.address}: not blocked`);
  console.log(`policy: block after >= ${p.minAttacks} attack verdicts that are >= ${p.minAttackPct} % of the source's verdicts within ${p.windowSeconds} s, for ${p.ttlSeconds} s (pipeline.block${p.enabled ? "" : ", disabled: alert only"})`);
  const w = r.window;
  console.log(`verdicts in the ${w.seconds} s up to the ${w.upTo}: ${w.attacks} attack of ${w.judged} (${w.attackPct.toFixed(0)} %): ${w.meetsPolicy ? "meets" : "does not meet"} the policy (of the flows kept)`);
  console.log(`model: ${r.model.target} runs ${r.model.model || "?"} version ${r.model.version} (${r.model.artifact})`);
  console.log(`method: ${r.method}`);
  console.log(`baseline score: ${r.baseline.score}`);
  if (r.flows.length === 0) console.log("\nno flows kept for this source (the core keeps them from its start, for the sources seen most recently)");
  const decision = r.flows.filter((f) => f.decision), later = r.flows.filter((f) => !f.decision);
  if (decision.length) {
    console.log(`\nflows up to the block decision (${decision.length}, in the order they ended; time from the window's end):`);
    decision.forEach((f) => printFlow(f, true));
    // After the decision the flows only confirm it: listed briefly unless --all.
    const shown = all ? later : later.slice(-LATER_SHOWN);
    if (later.length) console.log(`\nlater flows (${later.length} of the latest ${r.flowsKept} kept${shown.length < later.length ? `, the last ${shown.length} shown; --all for every one` : ""}):`);
    shown.forEach((f) => printFlow(f, all));
  } else {
    if (later.length) console.log(`\nflows (${later.length}, the latest ${r.flowsKept} kept, in the order they ended; time from the latest):`);
    later.forEach((f) => printFlow(f, true));
  }
  if (r.sourceContext.length) {
    console.log("\nsource context at its latest flow (bpf/FEATURES.md 22..31):");
    for (const c of r.sourceContext) console.log(`  ${c.name} = ${c.value}`);
  }
}
