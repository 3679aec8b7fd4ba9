// The testbed's summary: tables for people, one JSON object for machines.
import type { Evaluation } from "./evaluate.ts";
import type { TestbedRun } from "./run.ts";
import type { ShadowSummary } from "../../proto/gen/xids/control/v1/control.ts";

function table(head: string[], rows: (string | number)[][], rightAlign: boolean[]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => "  " + r.map((c, i) => (rightAlign[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ").trimEnd();
  return [line(head), line(w.map((n) => "-".repeat(n))), ...cells.slice(1).map(line)].join("\n");
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const msText = (x: number | null) => (x === null ? "-" : x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x).toLocaleString("en")} ms`);

/** Where the strays came from: " from 198.18.99.2 x3, fe80::1 x1" (nothing when there are none). */
function strayText(run: TestbedRun): string {
  const sources = Object.entries(run.straySources).sort((a, b) => b[1] - a[1]);
  return sources.length ? ` from ${sources.map(([addr, n]) => `${addr} x${n}`).join(", ")}` : "";
}

export function formatSummary(run: TestbedRun, ev: Evaluation): string {
  const model = run.model ? `${run.model.artifact} (version ${run.model.version})` : "none";
  const out = [
    `testbed run: seed ${run.seed}, ${run.hosts.length} hosts${run.family === 6 ? " over IPv6" : ""}, XDP ${run.xdpMode}, in-kernel model ${model}, ${(run.durationMs / 1000).toFixed(0)} s`,
    "",
    // Never silent: a scenario left out says so, and why.
    ...(run.skipped.length > 0
      ? [`skipped (their tools cannot run over IPv${run.family}):`, table(["scenario", "tool", "reason"], run.skipped.map((s) => [s.scenario.id, s.scenario.tool, s.reason]), [false, false, false]), ""]
      : []),
    "per category (flows as the kernel classified them in real time):",
    table(
      ["category", "flows", "errors", "accuracy", "MTTF (flows/error)"],
      ev.categories.map((c) => [c.label, c.flows, c.errors, pct(c.accuracy), c.mttf === null ? "∞ (no error)" : c.mttf.toFixed(1)]),
      [false, true, true, true, true],
    ),
    "",
    "per host (first packet -> kernel block -> first packet dropped):",
    table(
      ["scenario", "label", "source", "flows", "called attack", "blocked", "block after", "first drop after", "dropped pkts"],
      ev.hosts.map((h) => [h.scenario + (h.error ? " (generator failed)" : ""), h.label, h.ip, h.flows, h.detected, h.blocked ? "yes" : "no", msText(h.blockAfterMs), msText(h.latencyMs), h.dropped]),
      [false, false, false, true, true, false, true, true, true],
    ),
    "",
    `flows ${ev.flows}: TP ${ev.tp}  FP ${ev.fp}  TN ${ev.tn}  FN ${ev.fn}  (no verdict: ${ev.unclassified}; strays: ${run.strays}${strayText(run)}; link-local (neighbour discovery, MLD): ${run.linkLocal}, judged ${run.linkLocalJudged}, blocked ${run.linkLocalBlocked}; lost records: ${run.lostRecords})`,
    `F1 ${ev.f1.toFixed(4)}  precision ${ev.precision.toFixed(4)}  recall ${ev.recall.toFixed(4)}  FPR ${pct(ev.fpr)}  accuracy ${pct(ev.accuracy)}`,
    `attacking sources blocked ${ev.attacks_blocked}/${ev.attacks_total}; benign clients blocked ${ev.benign_blocked}/${ev.benign_total}`,
  ];
  return out.join("\n");
}

/** The demo's machine-readable result (the last line with --json). */
export function summaryJson(run: TestbedRun, ev: Evaluation): Record<string, unknown> {
  return {
    f1: round(ev.f1),
    fpr: round(ev.fpr),
    precision: round(ev.precision),
    recall: round(ev.recall),
    flows: ev.flows,
    tp: ev.tp, fp: ev.fp, tn: ev.tn, fn: ev.fn,
    unclassified: ev.unclassified,
    attacks_blocked: ev.attacks_blocked,
    attacks_total: ev.attacks_total,
    benign_blocked: ev.benign_blocked,
    benign_total: ev.benign_total,
    detection_latency_ms: ev.detection_latency_ms,
    categories: Object.fromEntries(ev.categories.map((c) => [c.label, { flows: c.flows, errors: c.errors, accuracy: round(c.accuracy), mttf: c.mttf === null ? null : round(c.mttf) }])),
    xdp_mode: run.xdpMode,
    family: run.family,
    skipped: run.skipped.map((s) => ({ scenario: s.scenario.id, tool: s.scenario.tool, reason: s.reason })),
    model: run.model,
    seed: run.seed,
    lost_records: run.lostRecords,
    link_local: run.linkLocal,
    link_local_judged: run.linkLocalJudged,
    link_local_blocked: run.linkLocalBlocked,
    duration_s: Math.round(run.durationMs / 100) / 10,
    ...(run.shadow ? { shadow: shadowJson(run.shadow) } : {}),
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The shadow's counts (the differing flows themselves are in the printed report). */
function shadowJson(s: ShadowSummary): Record<string, unknown> {
  const compared = s.bothAttack + s.bothBenign + s.onlyActive + s.onlyCandidate;
  return {
    candidate: s.candidate, flows_seen: s.flowsSeen, compared, both_attack: s.bothAttack, both_benign: s.bothBenign,
    only_active: s.onlyActive, only_candidate: s.onlyCandidate, failed: s.failed, skipped: s.skipped,
    agreement: compared === 0 ? null : round((s.bothAttack + s.bothBenign) / compared),
    candidate_only_blocks: s.candidateOnlyBlocksTotal, active_only_blocks: s.activeOnlyBlocksTotal, both_blocked: s.bothBlocked,
  };
}
