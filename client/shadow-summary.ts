// A shadow model's summary (ShadowSummary) as text: how far the candidate agrees with the pipeline,
// the flows where they differ, and what the block policy would have blocked on either side.
import type { ShadowBlock, ShadowSummary } from "../proto/gen/xids/control/v1/control.ts";
import { Verdict } from "../proto/gen/xids/plugin/v1/common.ts";

const word = (v: Verdict) => (v === Verdict.VERDICT_ATTACK ? "attack" : v === Verdict.VERDICT_BENIGN ? "benign" : "none");
const score = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));
const pct = (n: number, of: number) => (of === 0 ? "-" : `${((100 * n) / of).toFixed(2)} %`);

function blocks(what: string, list: ShadowBlock[], total: number): string[] {
  if (total === 0) return [`  ${what}: none`];
  const shown = list.map((b) => `${b.address} (after ${b.flowsBefore} flow${b.flowsBefore === 1 ? "" : "s"})`);
  return [`  ${what}: ${total} source${total === 1 ? "" : "s"}: ${shown.join(", ")}${total > list.length ? `, and ${total - list.length} more` : ""}`];
}

export function formatShadowSummary(s: ShadowSummary): string {
  const judged = s.bothAttack + s.bothBenign + s.onlyActive + s.onlyCandidate;
  const lines = [
    `shadow ${s.running ? "running" : "ended"}: candidate ${s.candidate} (${s.artifactPath}) beside ${s.activeModel || "the pipeline"}, since ${new Date(s.startedAtMs).toISOString()}`,
    `flows: ${s.flowsSeen} seen, ${judged} compared, ${s.failed} failed, ${s.skipped} skipped (queue full), ${s.pending} pending`,
    `agreement: ${pct(s.bothAttack + s.bothBenign, judged)} (${s.bothAttack + s.bothBenign} of ${judged})`,
    `                 candidate attack  candidate benign`,
    `  active attack  ${String(s.bothAttack).padStart(16)}  ${String(s.onlyActive).padStart(16)}`,
    `  active benign  ${String(s.onlyCandidate).padStart(16)}  ${String(s.bothBenign).padStart(16)}`,
  ];
  if (s.lastError) lines.push(`last failure: ${s.lastError}`);
  const differing = s.onlyActive + s.onlyCandidate;
  if (differing > 0) {
    lines.push(`differing flows (the newest ${s.differing.length} of ${differing}):`);
    for (const d of s.differing) {
      const r = d.record!;
      lines.push(
        `  ${r.srcAddr}:${r.srcPort} -> ${r.dstAddr}:${r.dstPort} proto ${r.protocol}: active ${word(d.activeVerdict)} (${d.activeModel}, score ${score(d.activeScore)}), candidate ${word(d.candidateVerdict)} (score ${score(d.candidateScore)})`,
      );
    }
  }
  lines.push("block policy (pipeline.block) on each side's verdicts:");
  lines.push(...blocks("only the candidate would block", s.candidateOnlyBlocks, s.candidateOnlyBlocksTotal));
  lines.push(...blocks("only the active model blocks", s.activeOnlyBlocks, s.activeOnlyBlocksTotal));
  lines.push(`  both: ${s.bothBlocked} source${s.bothBlocked === 1 ? "" : "s"}`);
  return lines.join("\n");
}
