// Per-feature contributions to one flow's score: Shapley values against a baseline row, estimated
// from seeded random permutations. Walking one permutation, each input in turn switches from the
// baseline's value to the flow's, and the score change at that step is credited to it; the steps
// telescope, so every permutation credits exactly score(x) - score(baseline). The integer totals
// over all permutations therefore sum to permutations x (score(x) - score(baseline)) exactly, and
// the contributions (totals / permutations) sum to it up to floating-point division.

/** The name `xids explain` prints and writes into its JSON, so a reader knows what the numbers are. */
export const METHOD = "shapley-permutation";

export interface Attribution {
  /** Per input (model input order): score change summed over every permutation. Integers. */
  totals: number[];
  /** Per input: totals / permutations, the estimated Shapley value. */
  contributions: number[];
  score: number;
  baselineScore: number;
  permutations: number;
}

/** mulberry32: a small seeded generator, so the same flow always gets the same explanation. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shapley attribution of `score` at `x` against `baseline` (same length, model input order).
 * `score` must return integers (the int32 model's logit difference) for the totals to be exact.
 * Permutations come in antithetic pairs (an order and its reverse), which halves the variance of
 * the estimate for the same cost; an odd count is rounded up.
 */
export function shapley(score: (v: number[]) => number, x: readonly number[], baseline: readonly number[], permutations = 32, seed = 1): Attribution {
  if (x.length !== baseline.length) throw new RangeError(`the flow has ${x.length} inputs, the baseline ${baseline.length}`);
  if (!Number.isInteger(permutations) || permutations < 1) throw new RangeError(`permutations: expected a positive integer, got ${permutations}`);
  const pairs = Math.ceil(permutations / 2);
  const n = x.length;
  const totals = new Array<number>(n).fill(0);
  const baselineScore = score([...baseline]);
  const full = score([...x]);
  // Inputs equal to the baseline never change the score when switched: only the rest are walked.
  const moved = [...Array(n).keys()].filter((i) => x[i] !== baseline[i]);
  const next = rng(seed);
  const walk = (order: number[]) => {
    const z = [...baseline];
    let prev = baselineScore;
    for (const i of order) {
      z[i] = x[i]!;
      const cur = score(z);
      totals[i]! += cur - prev;
      prev = cur;
    }
  };
  for (let p = 0; p < pairs; p++) {
    const order = [...moved];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    walk(order);
    walk(order.reverse());
  }
  const count = 2 * pairs;
  if (!Number.isInteger(full) || !Number.isInteger(baselineScore)) throw new RangeError(`score must be an integer, got ${full} and ${baselineScore}`);
  return { totals, contributions: totals.map((t) => t / count), score: full, baselineScore, permutations: count };
}
