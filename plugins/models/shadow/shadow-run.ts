// One candidate under shadow: the pipeline's verdicts queue up here (bounded), are judged in
// batches by the candidate's user-space reference (the artifact model's evaluation code), and
// are tallied: the four agreement counts, the newest differing flows, and what the block policy
// would have blocked on either side. Nothing here acts on traffic.
import { ShadowDifference, ShadowSummary } from "../../../proto/gen/xids/control/v1/control.ts";
import { Verdict, type Classification, type FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import type { BlockSettings, ModelArtifact } from "../../../core/plugin-api/services.ts";
import { predictUserSpace, type Model } from "../../../models/index.ts";
import { featureMatrix } from "../artifact/index.ts";
import { PolicySide } from "./policy-side.ts";

export const LIMITS = {
  /** Verdicts waiting for the candidate; beyond, they are counted as skipped. */
  queue: 8192,
  batch: 512,
  /** Differing flows kept (the newest). */
  differing: 256,
  /** Sources whose policy evidence is kept, per side. */
  sources: 65_536,
  /** Blocked sources listed per list in a summary. */
  blocksListed: 256,
};

interface Candidate {
  attack: boolean;
  score: number;
}

interface Judged {
  record: FlowRecord;
  verdict: Classification;
  model: string;
}

export class ShadowRun {
  readonly startedAtMs = Date.now();
  private readonly queue: Judged[] = [];
  private draining: Promise<void> | null = null;
  private readonly c = { seen: 0, bothAttack: 0, bothBenign: 0, onlyActive: 0, onlyCandidate: 0, failed: 0, skipped: 0 };
  private lastError = "";
  private readonly differing: ShadowDifference[] = [];
  private readonly active: PolicySide;
  private readonly candidate: PolicySide;
  /** The data-plane clock as far as the records tell (the kernel judges a flow when it ends, which
   *  for an idle flow is later than its last packet): keeps each side's policy time non-decreasing. */
  private clockUs = 0;
  private closed = false;

  constructor(
    readonly artifact: ModelArtifact,
    readonly digest: string,
    readonly activeModel: string,
    block: Pick<BlockSettings, "min_attacks" | "min_attack_pct" | "window_seconds">,
  ) {
    const policy = { minAttacks: block.min_attacks, minAttackPct: block.min_attack_pct, windowUs: block.window_seconds * 1e6 };
    this.active = new PolicySide(policy, LIMITS.sources);
    this.candidate = new PolicySide(policy, LIMITS.sources);
  }

  observe(record: FlowRecord, verdict: Classification, model: string): void {
    if (this.closed) return;
    this.c.seen++;
    if (this.queue.length >= LIMITS.queue) {
      this.c.skipped++;
      return;
    }
    this.queue.push({ record, verdict, model });
    this.draining ??= this.drain();
  }

  /** Resolves once every queued verdict is judged, or after `maxWaitMs`. */
  async settle(maxWaitMs: number): Promise<void> {
    if (this.draining) await Promise.race([this.draining, Bun.sleep(maxWaitMs)]);
  }

  summary(maxFlows: number): ShadowSummary {
    const c = this.c;
    const candidateOnly = this.candidate.only(this.active), activeOnly = this.active.only(this.candidate);
    return ShadowSummary.create({
      running: !this.closed,
      candidate: this.artifact.name,
      artifactPath: this.artifact.dir,
      activeModel: this.activeModel,
      startedAtMs: this.startedAtMs,
      flowsSeen: c.seen,
      bothAttack: c.bothAttack,
      bothBenign: c.bothBenign,
      onlyActive: c.onlyActive,
      onlyCandidate: c.onlyCandidate,
      failed: c.failed,
      skipped: c.skipped,
      pending: c.seen - c.bothAttack - c.bothBenign - c.onlyActive - c.onlyCandidate - c.failed - c.skipped,
      lastError: this.lastError,
      differing: maxFlows > 0 ? this.differing.slice(-maxFlows) : [...this.differing],
      differingKept: LIMITS.differing,
      candidateOnlyBlocks: candidateOnly.slice(0, LIMITS.blocksListed),
      activeOnlyBlocks: activeOnly.slice(0, LIMITS.blocksListed),
      candidateOnlyBlocksTotal: candidateOnly.length + this.candidate.blockedUnlisted,
      activeOnlyBlocksTotal: activeOnly.length + this.active.blockedUnlisted,
      bothBlocked: this.active.blocked.size - activeOnly.length,
    });
  }

  /** Stops judging; verdicts still queued stay pending in the last summary. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue.splice(0, LIMITS.batch);
        const verdicts = await this.judge(batch.map((j) => j.record));
        if (this.closed) return;
        batch.forEach((j, i) => this.tally(j, verdicts[i]!));
      }
    } finally {
      this.draining = null;
    }
  }

  /** The candidate's verdict per record, or why it could not judge it: a record lacking a feature
   *  the model reads fails alone; a failing model fails the batch. */
  private async judge(records: FlowRecord[]): Promise<(Candidate | Error)[]> {
    const model = this.artifact.loaded as Model;
    const out: (Candidate | Error)[] = records.map((r) => {
      try {
        featureMatrix([r], model.features);
        return { attack: false, score: 0 };
      } catch (err) {
        return err as Error;
      }
    });
    const ok = records.filter((_, i) => !(out[i] instanceof Error));
    if (ok.length === 0) return out;
    try {
      const p = await predictUserSpace(model, featureMatrix(ok, model.features), ok.length);
      let k = 0;
      return out.map((o) => {
        if (o instanceof Error) return o;
        const i = k++;
        return { attack: p.pred[i] === 1, score: p.score[i]! };
      });
    } catch (err) {
      return out.map((o) => (o instanceof Error ? o : (err as Error)));
    }
  }

  private tally(j: Judged, cand: Candidate | Error): void {
    if (cand instanceof Error) {
      this.c.failed++;
      this.lastError = `flow ${j.record.srcAddr}:${j.record.srcPort} -> ${j.record.dstAddr}:${j.record.dstPort}: ${cand.message}`;
      return;
    }
    const activeAttack = j.verdict.verdict === Verdict.VERDICT_ATTACK;
    if (activeAttack && cand.attack) this.c.bothAttack++;
    else if (!activeAttack && !cand.attack) this.c.bothBenign++;
    else {
      if (activeAttack) this.c.onlyActive++;
      else this.c.onlyCandidate++;
      this.differing.push(
        ShadowDifference.create({
          record: j.record,
          activeVerdict: j.verdict.verdict,
          activeScore: j.verdict.score,
          activeModel: j.verdict.model || j.model,
          candidateVerdict: cand.attack ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN,
          candidateScore: cand.score,
        }),
      );
      if (this.differing.length > LIMITS.differing) this.differing.shift();
    }
    this.clockUs = Math.max(this.clockUs, j.record.lastUs);
    this.active.add(j.record.srcAddr, this.clockUs, activeAttack);
    this.candidate.add(j.record.srcAddr, this.clockUs, cand.attack);
  }
}
