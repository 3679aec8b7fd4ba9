// Seeded, stratified train/validation/test split and class weights. Stratified by the original
// class label so rare attacks (Heartbleed, 11 rows) land in every split in proportion.

/** mulberry32: tiny, fast, seedable; good enough for shuffling and weight init. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export interface Split {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

export interface SplitOptions {
  seed: number;
  /** Fractions of each class; test gets the rest. */
  train: number;
  val: number;
}

export const DEFAULT_SPLIT: SplitOptions = { seed: 2017, train: 0.6, val: 0.2 };

export function stratifiedSplit(strata: readonly string[], opt: SplitOptions = DEFAULT_SPLIT): Split {
  const rand = rng(opt.seed);
  const groups = new Map<string, number[]>();
  strata.forEach((s, i) => {
    let g = groups.get(s);
    if (!g) groups.set(s, (g = []));
    g.push(i);
  });
  const train: number[] = [], val: number[] = [], test: number[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = shuffle(groups.get(key)!, rand);
    const nTrain = Math.round(g.length * opt.train);
    const nVal = Math.round(g.length * opt.val);
    train.push(...g.slice(0, nTrain));
    val.push(...g.slice(nTrain, nTrain + nVal));
    test.push(...g.slice(nTrain + nVal));
  }
  const sorted = (a: number[]) => Int32Array.from(a.sort((p, q) => p - q));
  return { train: sorted(train), val: sorted(val), test: sorted(test) };
}

/**
 * Balanced class weights (n / (2 · n_c)), so the 11.5 % benign share counts as much as the attacks
 * in the loss; `benignBoost` multiplies the benign weight further to trade recall for a lower FPR.
 */
export function classWeights(y: ArrayLike<number>, benignBoost = 1): [number, number] {
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  const neg = y.length - pos;
  if (pos === 0 || neg === 0) return [1, 1];
  return [(y.length / (2 * neg)) * benignBoost, y.length / (2 * pos)];
}

export function sampleWeights(y: ArrayLike<number>, w: [number, number]): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = w[y[i]!]!;
  return out;
}
