// The boosted-tree ensemble as the kernel runs it (models/GBT_SPEC.md): flat nodes, each tree
// breadth first with its root first, an inner node's children adjacent (next, next + 1), a
// leaf's next the following tree's root (-1 after the last). This file is the reference: its
// margin is what bpf/classify.h must compute, bit for bit.

export interface GbtEnsemble {
  /** Margin offset (Q16): the booster's base score as log-odds. */
  base: number;
  /** Attack iff margin > threshold. */
  threshold: number;
  leafScale: number;
  trees: number;
  /** Walk bound: Σ over the trees of (depth + 1). */
  steps: number;
  /** Per node: the model input it tests (index into the artifact's features), -1 for a leaf. */
  feature: number[];
  /** Inner: go to next iff x <= split, else next + 1. Leaf: its value (int32, Q16). */
  split: number[];
  next: number[];
}

export class GbtError extends Error {
  override name = "GbtError";
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/**
 * Every bound the kernel walk relies on, with an error naming the node and what is wrong:
 * indices in range, children forward and inside their tree, leaves chaining tree to tree, the
 * walk ending within `maxSteps`, leaf values int32, splits safe integers.
 */
export function validateEnsemble(e: GbtEnsemble, inputs: number, maxNodes: number, maxSteps: number): void {
  const fail = (msg: string): never => {
    throw new GbtError(msg);
  };
  const n = e.feature.length;
  if (n < 1 || n > maxNodes) fail(`ensemble has ${n} nodes; the kernel holds 1..${maxNodes}`);
  if (e.split.length !== n || e.next.length !== n) fail(`ensemble arrays differ in length (feature ${n}, split ${e.split.length}, next ${e.next.length})`);
  if (!Number.isSafeInteger(e.base) || !Number.isSafeInteger(e.threshold)) fail(`base ${e.base} / threshold ${e.threshold} must be integers`);
  if (!Number.isInteger(e.trees) || e.trees < 1) fail(`trees ${e.trees} must be a positive integer`);
  // Walk every tree from its root: children forward, inside the tree, leaves chaining on.
  let root = 0, steps = 0;
  for (let t = 0; t < e.trees; t++) {
    if (root >= n) fail(`tree ${t} starts at node ${root}, past the last node ${n - 1}`);
    const depth = new Map<number, number>([[root, 0]]);
    let end = root + 1, nextRoot = -2, maxDepth = 0;
    for (let i = root; i < end; i++) {
      const d = depth.get(i);
      if (d === undefined) fail(`tree ${t}: node ${i} is not reached from the tree's root ${root}`);
      maxDepth = Math.max(maxDepth, d!);
      const f = e.feature[i]!, v = e.split[i]!, nx = e.next[i]!;
      if (f === -1) {
        if (!Number.isInteger(v) || v < I32_MIN || v > I32_MAX) fail(`tree ${t} node ${i}: leaf value ${v} is not int32`);
        if (nextRoot === -2) nextRoot = nx;
        else if (nx !== nextRoot) fail(`tree ${t} node ${i}: leaf goes on to ${nx}, another leaf of the tree to ${nextRoot}`);
      } else {
        if (!Number.isInteger(f) || f < 0 || f >= inputs) fail(`tree ${t} node ${i} tests input ${f}; the model has ${inputs}`);
        if (!Number.isSafeInteger(v)) fail(`tree ${t} node ${i}: split ${v} is not a safe integer`);
        if (nx !== end) fail(`tree ${t} node ${i}: children at ${nx}, ${nx + 1}; breadth-first layout puts them at ${end}, ${end + 1}`);
        if (nx + 1 >= n) fail(`tree ${t} node ${i}: children ${nx}, ${nx + 1} are past the last node ${n - 1}`);
        depth.set(nx, d! + 1);
        depth.set(nx + 1, d! + 1);
        end += 2;
      }
    }
    steps += maxDepth + 1;
    const last = t === e.trees - 1;
    if (last ? nextRoot !== -1 : nextRoot !== end) fail(`tree ${t}: its leaves go on to ${nextRoot}, expected ${last ? "-1 (the end)" : `${end} (the next tree's root)`}`);
    root = end;
  }
  if (root !== n) fail(`the ${e.trees} trees use ${root} nodes, the ensemble has ${n}`);
  if (steps !== e.steps) fail(`walk bound ${e.steps} differs from the trees' ${steps}`);
  if (steps > maxSteps) fail(`the walk takes up to ${steps} steps; the kernel allows ${maxSteps}`);
}

/** The margin (Q16, exact: int32 leaves over at most 2^14 trees stay far below 2^53) for one row;
 *  x(i) is the value of model input i. */
export function gbtMargin(e: GbtEnsemble, x: (input: number) => number): number {
  let margin = e.base, i = 0;
  for (;;) {
    const f = e.feature[i]!;
    if (f === -1) {
      margin += e.split[i]!;
      const nx = e.next[i]!;
      if (nx === -1) return margin;
      i = nx;
    } else {
      i = e.next[i]! + (x(f) > e.split[i]! ? 1 : 0);
    }
  }
}

/** Verdict and score as the kernel reports them: score = sat32(margin - threshold). */
export function gbtVerdict(e: GbtEnsemble, x: (input: number) => number): { attack: boolean; score: number; margin: number } {
  const margin = gbtMargin(e, x);
  const d = margin - e.threshold;
  return { attack: margin > e.threshold, score: d > I32_MAX ? I32_MAX : d < I32_MIN ? I32_MIN : d, margin };
}

/** A kernel feature (u64, compared as s64) as a number that orders the same against any split:
 *  exact below 2^53, and beyond it on the same side of every safe-integer split. */
export function kernelValue(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}
