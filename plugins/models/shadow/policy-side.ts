// One side of the comparison (the pipeline's verdicts or the candidate's) under the block policy
// of pipeline.block: which sources it would have blocked, when, and after how many of their
// flows. Bounded: evidence and flow counts are kept for at most `maxSources` sources (least
// recently seen forgotten first), blocked sources up to the same number (the rest only counted).
import { BlockJudge, type BlockPolicy } from "../../../models/evaluation/block-policy.ts";
import { ShadowBlock } from "../../../proto/gen/xids/control/v1/control.ts";

export class PolicySide {
  private readonly judge: BlockJudge;
  private readonly flows = new Map<string, number>();
  readonly blocked = new Map<string, ShadowBlock>();
  /** Blocked sources beyond what `blocked` keeps. */
  blockedUnlisted = 0;

  constructor(
    policy: BlockPolicy,
    private readonly maxSources: number,
  ) {
    this.judge = new BlockJudge(policy, maxSources);
  }

  /** One verdict of `source` at `atUs` (non-decreasing per source). */
  add(source: string, atUs: number, attack: boolean): void {
    if (this.blocked.has(source)) return; // blocked: its later flows would never have been seen
    const n = (this.flows.get(source) ?? 0) + 1;
    this.flows.delete(source);
    if (this.flows.size >= this.maxSources) this.flows.delete(this.flows.keys().next().value!);
    this.flows.set(source, n);
    if (!this.judge.judge({ source, endUs: atUs, attack })) return;
    this.flows.delete(source);
    if (this.blocked.size < this.maxSources) this.blocked.set(source, ShadowBlock.create({ address: source, blockedAtUs: atUs, flowsBefore: n }));
    else this.blockedUnlisted++;
  }

  /** Blocked here and not on `other`, in the order they were blocked. */
  only(other: PolicySide): ShadowBlock[] {
    return [...this.blocked.values()].filter((b) => !other.blocked.has(b.address));
  }
}
