// What a leave-one-out run found, summed up: per held-out attack scenario (flow recall, sources
// blocked, flows and time before the block); per benign scenario the false positives of the tool
// folds' models on runs they never saw; per benign kind never seen (benign folds); per link band;
// and the headline figures against the targets of issue 14.
import type { FoldOutcome, SourceOutcome } from "./loo.ts";

export interface LooTargets {
  /** Pooled attack flow recall over the tool folds, at least. */
  recall: number;
  /** Median flows before an attack source's block, at most. */
  medianFlowsBeforeBlock: number;
  /** Pooled benign flow FPR of the tool folds' models on their judged runs, at most ... */
  fpr: number;
  /** ... measured over at least this many benign flows. */
  minBenignFlows: number;
}

export const ISSUE_14_TARGETS: LooTargets = { recall: 0.95, medianFlowsBeforeBlock: 5, fpr: 0.001, minBenignFlows: 20_000 };

export interface ScenarioRow {
  /** What the fold held out (run groups pooled). */
  fold: string;
  scenario: string;
  label: string;
  tool: string;
  sources: number;
  blocked: number;
  flows: number;
  flagged: number;
  medianFlowsBeforeBlock: number | null;
  medianMsBeforeBlock: number | null;
}

export interface LinkRow {
  band: string;
  attackFlows: number;
  attackFlagged: number;
  attackSources: number;
  attackBlocked: number;
  benignFlows: number;
  benignFlagged: number;
  benignSources: number;
  benignBlocked: number;
}

export interface LooSummary {
  /** Trained on other runs with every tool and band: the in-distribution figures ("runs" folds). */
  inDistribution: ScenarioRow[];
  attacks: ScenarioRow[];
  /** Benign sources of the judged runs, as the tool folds' models judged them. */
  benign: ScenarioRow[];
  /** The same per link band (`fold` is the band): where the false positives come from. */
  benignByBand: ScenarioRow[];
  /** Benign kinds held out (benign folds). */
  unseenBenign: ScenarioRow[];
  links: LinkRow[];
  headline: {
    attackFlows: number;
    attackRecall: number;
    attackSources: number;
    attackSourcesBlocked: number;
    /** Unblocked sources count as never (infinite) in the median. */
    medianFlowsBeforeBlock: number | null;
    medianMsBeforeBlock: number | null;
    /** Distinct benign flows judged, and the verdicts on them (one per tool fold that judged the run). */
    benignFlows: number;
    benignJudgements: number;
    benignFalsePositives: number;
    benignFpr: number;
    /** Distinct benign sources, and those blocked by at least one fold's model. */
    benignSources: number;
    benignSourcesBlocked: number;
  };
  /** Each target and whether it holds; empty `failed` means all hold. */
  checks: { what: string; ok: boolean; value: string }[];
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const v = values.slice().sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

function scenarioRows(sources: SourceOutcome[], foldOf: (s: SourceOutcome) => string): ScenarioRow[] {
  const by = new Map<string, SourceOutcome[]>();
  for (const s of sources) {
    const k = `${foldOf(s)}\0${s.scenario}`;
    const list = by.get(k);
    if (list) list.push(s);
    else by.set(k, [s]);
  }
  return [...by.values()].map((l) => ({
    fold: foldOf(l[0]!), scenario: l[0]!.scenario, label: l[0]!.label, tool: l[0]!.tool,
    sources: l.length, blocked: l.filter((s) => s.blocked).length,
    flows: l.reduce((a, s) => a + s.flows, 0), flagged: l.reduce((a, s) => a + s.flagged, 0),
    medianFlowsBeforeBlock: median(l.map((s) => s.flowsBeforeBlock ?? Infinity)),
    medianMsBeforeBlock: median(l.map((s) => s.msBeforeBlock ?? Infinity)),
  })).sort((a, b) => a.label.localeCompare(b.label) || a.fold.localeCompare(b.fold) || a.scenario.localeCompare(b.scenario));
}

export function summarizeLoo(folds: readonly FoldOutcome[], targets: LooTargets = ISSUE_14_TARGETS): LooSummary {
  const heldOutName = new Map(folds.map((f) => [f.name, f.heldOutName]));
  const byHeldOut = (s: SourceOutcome) => heldOutName.get(s.fold)!;
  const all = folds.flatMap((f) => f.sources);
  const toolSources = all.filter((s) => s.kind === "tool" && s.attack);
  const benignSources = all.filter((s) => s.kind === "tool" && !s.attack);
  const unseenBenign = all.filter((s) => s.kind === "benign" && s.heldOut);
  const sum = (l: SourceOutcome[], g: (s: SourceOutcome) => number) => l.reduce((x, s) => x + g(s), 0);
  const bands = new Map<string, SourceOutcome[]>();
  for (const s of all.filter((x) => x.kind === "link" && x.heldOut)) {
    const list = bands.get(s.link);
    if (list) list.push(s);
    else bands.set(s.link, [s]);
  }
  const links: LinkRow[] = [...bands].sort((a, b) => a[0].localeCompare(b[0])).map(([band, l]) => {
    const a = l.filter((s) => s.attack), b = l.filter((s) => !s.attack);
    return {
      band,
      attackFlows: sum(a, (s) => s.flows), attackFlagged: sum(a, (s) => s.flagged), attackSources: a.length, attackBlocked: a.filter((s) => s.blocked).length,
      benignFlows: sum(b, (s) => s.flows), benignFlagged: sum(b, (s) => s.flagged), benignSources: b.length, benignBlocked: b.filter((s) => s.blocked).length,
    };
  });
  const attackFlows = sum(toolSources, (s) => s.flows);
  const attackFlagged = sum(toolSources, (s) => s.flagged);
  const distinctBenign = new Map(benignSources.map((s) => [s.source, s.flows]));
  const blockedBenign = [...new Set(benignSources.filter((s) => s.blocked).map((s) => s.source))].sort();
  const judgements = sum(benignSources, (s) => s.flows);
  const benignFp = sum(benignSources, (s) => s.flagged);
  const headline = {
    attackFlows,
    attackRecall: attackFlows ? attackFlagged / attackFlows : 0,
    attackSources: toolSources.length,
    attackSourcesBlocked: toolSources.filter((s) => s.blocked).length,
    medianFlowsBeforeBlock: median(toolSources.map((s) => s.flowsBeforeBlock ?? Infinity)),
    medianMsBeforeBlock: median(toolSources.map((s) => s.msBeforeBlock ?? Infinity)),
    benignFlows: [...distinctBenign.values()].reduce((a, b) => a + b, 0),
    benignJudgements: judgements,
    benignFalsePositives: benignFp,
    benignFpr: judgements ? benignFp / judgements : 0,
    benignSources: distinctBenign.size,
    benignSourcesBlocked: blockedBenign.length,
  };
  const checks: LooSummary["checks"] = [];
  if (toolSources.length) {
    const unblocked = toolSources.filter((s) => !s.blocked).map((s) => `${s.source} (${byHeldOut(s)})`);
    checks.push({ what: "every held-out tool's source blocked", ok: unblocked.length === 0, value: unblocked.length ? `not blocked: ${unblocked.join(", ")}` : `${toolSources.length}/${toolSources.length}` });
    checks.push({ what: `median flows before the block <= ${targets.medianFlowsBeforeBlock}`, ok: (headline.medianFlowsBeforeBlock ?? Infinity) <= targets.medianFlowsBeforeBlock, value: String(headline.medianFlowsBeforeBlock) });
    checks.push({ what: `pooled attack flow recall >= ${targets.recall}`, ok: headline.attackRecall >= targets.recall, value: headline.attackRecall.toFixed(4) });
    checks.push({ what: `benign flow FPR <= ${(targets.fpr * 100).toFixed(2)} %`, ok: headline.benignFpr <= targets.fpr, value: `${(headline.benignFpr * 100).toFixed(3)} % (${benignFp} of ${judgements} verdicts)` });
    checks.push({ what: `over >= ${targets.minBenignFlows} distinct benign flows`, ok: headline.benignFlows >= targets.minBenignFlows, value: String(headline.benignFlows) });
    checks.push({ what: "no benign source blocked", ok: blockedBenign.length === 0, value: blockedBenign.length ? `blocked: ${blockedBenign.join(", ")}` : `0/${distinctBenign.size}` });
  }
  const inDist = all.filter((s) => s.kind === "runs");
  return { inDistribution: scenarioRows(inDist, () => "runs"), attacks: scenarioRows(toolSources, byHeldOut), benign: scenarioRows(benignSources, () => "tool folds"), benignByBand: scenarioRows(benignSources, (s) => s.link), unseenBenign: scenarioRows(unseenBenign, byHeldOut), links, headline, checks };
}

const pct = (a: number, b: number) => (b ? `${((a / b) * 100).toFixed(2)} %` : "-");
const num = (v: number | null, digits = 0) => (v === null ? "-" : v === Infinity ? "never" : v.toFixed(digits));

/** Markdown tables (the REPORT section and what `xids loo` prints). */
export function formatLoo(s: LooSummary): string {
  const h = s.headline;
  const lines: string[] = [];
  if (s.inDistribution.length) {
    const a = s.inDistribution.filter((r) => r.label.toUpperCase() !== "BENIGN"), b = s.inDistribution.filter((r) => r.label.toUpperCase() === "BENIGN");
    const sum = (l: ScenarioRow[], g: (r: ScenarioRow) => number) => l.reduce((x, r) => x + g(r), 0);
    lines.push("In distribution (trained on the other runs, every tool and band seen):", "",
      "| class | scenario | sources blocked | flows | flagged |", "|---|---|--:|--:|--:|");
    for (const r of s.inDistribution) lines.push(`| ${r.label} | ${r.scenario} | ${r.blocked}/${r.sources} | ${r.flows} | ${pct(r.flagged, r.flows)} |`);
    lines.push("", `In distribution, pooled: attack recall ${pct(sum(a, (r) => r.flagged), sum(a, (r) => r.flows))} over ${sum(a, (r) => r.flows)} flows, attack sources blocked ${sum(a, (r) => r.blocked)}/${sum(a, (r) => r.sources)}; ` +
      `benign FPR ${pct(sum(b, (r) => r.flagged), sum(b, (r) => r.flows))} (${sum(b, (r) => r.flagged)} of ${sum(b, (r) => r.flows)}), benign sources blocked ${sum(b, (r) => r.blocked)}/${sum(b, (r) => r.sources)}.`, "");
  }
  if (s.attacks.length) {
    lines.push("Held-out attack tools (each row: a model trained without that tool's scenarios of that class, judged on them):", "",
      "| class | held out | scenario | sources blocked | flows | recall | median flows before block | median ms before block |",
      "|---|---|---|--:|--:|--:|--:|--:|");
    for (const r of s.attacks) lines.push(`| ${r.label} | ${r.tool} | ${r.scenario} | ${r.blocked}/${r.sources} | ${r.flows} | ${pct(r.flagged, r.flows)} | ${num(r.medianFlowsBeforeBlock)} | ${num(r.medianMsBeforeBlock)} |`);
    lines.push("");
  }
  if (s.benign.length) {
    lines.push("Benign traffic of runs the models never saw (each flow judged by every tool fold's model of its run group; blocked: by at least one):", "",
      "| scenario | sources | blocked (fold models) | verdicts | false positives | FPR |", "|---|--:|--:|--:|--:|--:|");
    for (const r of s.benign) lines.push(`| ${r.scenario} | ${r.sources} | ${r.blocked} | ${r.flows} | ${r.flagged} | ${pct(r.flagged, r.flows)} |`);
    lines.push("");
    const worst = s.benignByBand.filter((r) => r.flagged > 0).sort((a, b) => b.flagged - a.flagged).slice(0, 5);
    if (worst.length) {
      lines.push("Where those false positives are (the benign scenarios and link bands with the most):", "",
        "| scenario | link band | verdicts | false positives | FPR | share of all |", "|---|---|--:|--:|--:|--:|");
      for (const r of worst) lines.push(`| ${r.scenario} | ${r.fold} | ${r.flows} | ${r.flagged} | ${pct(r.flagged, r.flows)} | ${pct(r.flagged, h.benignFalsePositives)} |`);
      lines.push("");
    }
  }
  if (s.unseenBenign.length) {
    lines.push("Benign kinds never seen (each row: a model trained without that kind of traffic, judged on it in other runs):", "",
      "| scenario | sources blocked | flows | false positives | FPR |", "|---|--:|--:|--:|--:|");
    for (const r of s.unseenBenign) lines.push(`| ${r.scenario} | ${r.blocked}/${r.sources} | ${r.flows} | ${r.flagged} | ${pct(r.flagged, r.flows)} |`);
    lines.push("");
  }
  if (s.links.length) {
    lines.push("Held-out link bands (each row: a model trained without any host behind that band, judged on them):", "",
      "| band | attack flows | recall | attack sources blocked | benign flows | FPR | benign sources blocked |", "|---|--:|--:|--:|--:|--:|--:|");
    for (const r of s.links) lines.push(`| ${r.band} | ${r.attackFlows} | ${pct(r.attackFlagged, r.attackFlows)} | ${r.attackBlocked}/${r.attackSources} | ${r.benignFlows} | ${pct(r.benignFlagged, r.benignFlows)} | ${r.benignBlocked}/${r.benignSources} |`);
    lines.push("");
  }
  lines.push(`Pooled: attack recall ${h.attackRecall.toFixed(4)} over ${h.attackFlows} flows; attack sources blocked ${h.attackSourcesBlocked}/${h.attackSources}, median ${num(h.medianFlowsBeforeBlock)} flows / ${num(h.medianMsBeforeBlock)} ms before the block; ` +
    `benign FPR ${pct(h.benignFalsePositives, h.benignJudgements)} (${h.benignFalsePositives} of ${h.benignJudgements} verdicts on ${h.benignFlows} distinct flows); benign sources blocked ${h.benignSourcesBlocked}/${h.benignSources}.`, "");
  for (const c of s.checks) lines.push(`- [${c.ok ? "x" : " "}] ${c.what}: ${c.value}`);
  return lines.join("\n");
}
