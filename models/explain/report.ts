// Why a source is blocked, as data: the core's Explain answer (block entry, policy, the source's
// kept flows with their verdicts) joined with the model's own explanation of each flow's score,
// computed in user space with the reference of the model the kernel runs (`xids explain`, the live page).
import type { ExplainFlow, ExplainResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { KernelBlock, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { MlpModel } from "../artifact/load.ts";
import type { Baseline } from "./baseline.ts";
import { explainFlow, methodLine, referenceScore, type FeatureContribution } from "./explain-flow.ts";
import { CONTEXT_FEATURES, FEATURES, N_FLOW_FEATURES } from "../data/features.ts";

export interface FlowReport {
  id: number;
  protocol: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Data-plane clock of the flow's last packet, and seconds from the end of the policy window
   *  (the latest last packet among the flows counted) to it: negative before. */
  lastUs: number;
  seconds: number;
  verdict: "attack" | "benign" | "none";
  /** Who gave the verdict: "kernel vN" or the user-space model's name. */
  verdictBy: string;
  /** The score the verdict came from (the kernel's, or the user-space model's). */
  score: number;
  /** Attack verdicts the kernel's block policy held for the source after this flow. */
  evidence: number;
  /** The kernel's block decision for this flow, or the detection's action. */
  action: string;
  /** Among the flows up to the block decision (kept as they were then). */
  decision: boolean;
  /** Counted: in the policy window, among the decision's flows (or the latest flows, if none). */
  inWindow: boolean;
  /** Present when the flow was explained; `error` says why it was not. */
  explanation?: { score: number; baselineScore: number; top: FeatureContribution[]; contributions: FeatureContribution[] };
  error?: string;
  /** Notes a reader must see: a model version other than the explained one, a score mismatch. */
  warnings: string[];
}

export interface ExplainReport {
  address: string;
  blocked: boolean;
  block?: { reason: number; reasonName: string; expiresInMs: number; hits: number };
  policy: ExplainResponse["policy"];
  window: { seconds: number; upTo: "block decision" | "latest flow"; attacks: number; judged: number; attackPct: number; meetsPolicy: boolean };
  model: { target: string; model: string; version: number; artifact: string };
  method: string;
  baseline: { method: string; data: string; rows: number; score: number };
  flowsKept: number;
  /** The flows up to the block decision, then the later ones, oldest first. */
  flows: FlowReport[];
  /** Features 22..31 of the source's latest flow: its context when that flow ended. */
  sourceContext: { index: number; name: string; value: number }[];
}

const VERDICT = { [Verdict.VERDICT_ATTACK]: "attack", [Verdict.VERDICT_BENIGN]: "benign" } as Record<number, "attack" | "benign">;
const BLOCK_ACTION: Record<number, string> = {
  [KernelBlock.KERNEL_BLOCK_BLOCKED]: "kernel-blocked", [KernelBlock.KERNEL_BLOCK_NOT_YET]: "not-yet", [KernelBlock.KERNEL_BLOCK_ALLOWED]: "allowed",
  [KernelBlock.KERNEL_BLOCK_NEVER]: "never", [KernelBlock.KERNEL_BLOCK_FAILED]: "failed", [KernelBlock.KERNEL_BLOCK_ALERT]: "alert",
  [KernelBlock.KERNEL_BLOCK_LONE_PACKET]: "lone-packet", [KernelBlock.KERNEL_BLOCK_EXEMPT]: "exempt",
};

/** The verdict the pipeline acted on: the kernel's if it gave one, else the detecting model's
 *  (a user-space model's benign answers are not published: such a flow shows no verdict). */
function verdictOf(f: ExplainFlow): { verdict: FlowReport["verdict"]; by: string; score: number } {
  const r = f.record!;
  if (r.kernelVerdict !== Verdict.VERDICT_NONE) return { verdict: VERDICT[r.kernelVerdict] ?? "none", by: `kernel v${r.modelVersion}`, score: r.kernelScore };
  if (f.classification) return { verdict: VERDICT[f.classification.verdict] ?? "none", by: f.classification.model, score: f.classification.score };
  return { verdict: "none", by: "", score: 0 };
}

export interface ReportOptions {
  /** An even count: shapley.ts walks antithetic pairs. */
  permutations: number;
  top: number;
  /** Explain benign flows too (default: only the flows with an attack verdict). */
  all: boolean;
}

export function explainReport(res: ExplainResponse, model: MlpModel, baseline: Baseline, artifact: string, o: ReportOptions): ExplainReport {
  const policy = res.policy!;
  const decided = new Set(res.decisionFlows.map((f) => f.record!.id));
  // The decision's flows, then the later ones not among them: one list, oldest first.
  const all = [...res.decisionFlows, ...res.flows.filter((f) => !decided.has(f.record!.id))];
  // The policy counts the decision's flows (else the latest ones) in the window before it. Records
  // arrive in the order flows end, which is not the order of their last packets: the window ends
  // at the latest last packet among them, and times are relative to it.
  const counted = decided.size ? res.decisionFlows : res.flows;
  const ref = Math.max(0, ...counted.map((f) => f.record!.lastUs));
  const windowStart = ref - policy.windowSeconds * 1e6;
  const flows = all.map((f): FlowReport => {
    const r = f.record!;
    const v = verdictOf(f);
    const rep: FlowReport = {
      id: r.id, protocol: r.protocol, src: r.srcAddr, srcPort: r.srcPort, dst: r.dstAddr, dstPort: r.dstPort,
      lastUs: r.lastUs, seconds: (r.lastUs - ref) / 1e6, verdict: v.verdict, verdictBy: v.by, score: v.score,
      evidence: r.kernelEvidence, action: f.action || BLOCK_ACTION[r.kernelBlock] || "", decision: decided.has(r.id),
      inWindow: (decided.size === 0 || decided.has(r.id)) && r.lastUs >= windowStart, warnings: [],
    };
    if (v.verdict === "none" || (v.verdict === "benign" && !o.all)) return rep;
    try {
      const e = explainFlow(model, baseline, r.features, o.permutations);
      rep.explanation = { score: e.score, baselineScore: e.baselineScore, top: e.features.slice(0, o.top), contributions: e.features };
      if (r.kernelVerdict !== Verdict.VERDICT_NONE) {
        if (r.modelVersion !== res.modelVersion) rep.warnings.push(`scored by kernel model version ${r.modelVersion}; explained with version ${res.modelVersion} (${artifact})`);
        else if (r.kernelScore !== e.score) rep.warnings.push(`the reference scores ${e.score}, the kernel scored ${r.kernelScore}`);
      } else rep.warnings.push(`the verdict came from ${v.by || "a user-space model"}; explained is the int32 MLP's score ${e.score}`);
    } catch (err) {
      rep.error = (err as Error).message;
    }
    return rep;
  });
  // The policy's count: the decision's flows in the window before it (else the latest flows).
  const judged = flows.filter((f) => f.inWindow && f.verdict !== "none");
  const attacks = judged.filter((f) => f.verdict === "attack").length;
  const attackPct = judged.length ? (100 * attacks) / judged.length : 0;
  const latest = res.flows.at(-1)?.record;
  return {
    address: res.address,
    blocked: res.block !== undefined,
    ...(res.block ? { block: { reason: res.block.reason, reasonName: res.blockReason, expiresInMs: res.block.expiresInMs, hits: res.block.hits } } : {}),
    policy,
    window: { seconds: policy.windowSeconds, upTo: decided.size ? "block decision" : "latest flow", attacks, judged: judged.length, attackPct, meetsPolicy: attacks >= policy.minAttacks && attackPct >= policy.minAttackPct },
    model: { target: res.modelTarget, model: res.model, version: res.modelVersion, artifact },
    method: methodLine(model, baseline, o.permutations),
    baseline: { method: baseline.method, data: baseline.data, rows: baseline.rows, score: referenceScore(model, baseline.values) },
    flowsKept: res.flowsKept,
    flows,
    sourceContext: latest && latest.features.length > N_FLOW_FEATURES
      ? FEATURES.filter((f) => CONTEXT_FEATURES.includes(f.index)).map((f) => ({ index: f.index, name: f.name, value: latest.features[f.index]! }))
      : [],
  };
}
