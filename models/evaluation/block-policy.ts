// The in-kernel block policy replayed offline over recorded verdicts: when would each source have
// been blocked, and after how many of its flows. It mirrors enough_evidence() in bpf/classify.h
// (a source is blocked once, over the last window, it has at least min_attacks attack verdicts
// making up at least min_attack_pct % of its verdicts; the window slides, the previous bucket
// weighted in 1/1024), with times in µs. test/inference/block-policy.test.ts checks the kernel
// against it.

export interface BlockPolicy {
  minAttacks: number;
  minAttackPct: number;
  windowUs: number;
}

export interface Verdict {
  source: string;
  /** When the flow ended (the verdict's time), µs. */
  endUs: number;
  attack: boolean;
}

export interface BlockOutcome {
  /** When the source would have been blocked (µs), null if never. */
  blockedAtUs: number | null;
  /** Its verdicts up to and including the one that blocked it (all of them if never). */
  flowsBefore: number;
}

const ONE = 1024;

interface Evidence {
  startUs: number;
  attacks: number;
  benign: number;
  prevAttacks: number;
  prevBenign: number;
}

/** Verdicts in time order per source; a blocked source's later verdicts do not matter. */
export function simulateBlocks(verdicts: readonly Verdict[], p: BlockPolicy): Map<string, BlockOutcome> {
  const order = verdicts.map((v, i) => [v, i] as const).sort((a, b) => a[0].endUs - b[0].endUs || a[1] - b[1]);
  const judge = new BlockJudge(p);
  const out = new Map<string, BlockOutcome>();
  for (const [v] of order) {
    let o = out.get(v.source);
    if (!o) out.set(v.source, (o = { blockedAtUs: null, flowsBefore: 0 }));
    if (o.blockedAtUs !== null) continue;
    o.flowsBefore++;
    if (judge.judge(v)) o.blockedAtUs = v.endUs;
  }
  return out;
}

/**
 * The policy one verdict at a time, for live use (the shadow model): `judge` says whether this
 * verdict blocks its source. Verdicts of one source must come in time order. With `maxSources`
 * the evidence of the least recently judged source is forgotten first (its window starts over),
 * so memory stays bounded however many sources there are.
 */
export class BlockJudge {
  private readonly ev = new Map<string, Evidence>();

  constructor(
    private readonly p: BlockPolicy,
    private readonly maxSources = Infinity,
  ) {}

  judge(v: Verdict): boolean {
    const e = this.ev.get(v.source);
    if (e) {
      this.ev.delete(v.source); // to the end: the Map keeps the least recently judged first
      this.ev.set(v.source, e);
    } else if (this.ev.size >= this.maxSources) this.ev.delete(this.ev.keys().next().value!);
    return block(this.ev, v, this.p);
  }

  get sources(): number {
    return this.ev.size;
  }
}

function block(ev: Map<string, Evidence>, v: Verdict, p: BlockPolicy): boolean {
  if (p.minAttacks <= 1 && p.minAttackPct === 0) return v.attack;
  const w = p.windowUs, now = v.endUs;
  let e = ev.get(v.source);
  if (!e) {
    ev.set(v.source, { startUs: now, attacks: v.attack ? 1 : 0, benign: v.attack ? 0 : 1, prevAttacks: 0, prevBenign: 0 });
    return v.attack && 1 >= p.minAttacks && 100 >= p.minAttackPct;
  }
  let elapsed = now - e.startUs;
  if (elapsed >= w) {
    if (elapsed < 2 * w) {
      e.prevAttacks = e.attacks;
      e.prevBenign = e.benign;
      e.startUs += w;
    } else {
      e.prevAttacks = 0;
      e.prevBenign = 0;
      e.startUs = now;
    }
    e.attacks = 0;
    e.benign = 0;
    elapsed = now - e.startUs;
  }
  if (v.attack) e.attacks++;
  else e.benign++;
  const prevW = elapsed < w ? Math.floor(((w - elapsed) * ONE) / w) : 0;
  const attacks = e.attacks * ONE + e.prevAttacks * prevW;
  const benign = e.benign * ONE + e.prevBenign * prevW;
  return v.attack && attacks >= p.minAttacks * ONE && attacks * 100 >= p.minAttackPct * (attacks + benign);
}
