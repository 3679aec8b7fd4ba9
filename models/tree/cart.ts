// CART with weighted Gini impurity. Trained once per node level over presorted index lists, so a
// depth-10 tree over ~26k rows takes well under a second. Exported as flat node arrays: the
// kernel walks them with integer compares, user space with the same code.

export interface CartOptions {
  maxDepth: number;
  minSamplesLeaf: number;
  /** Minimum weighted impurity decrease for a split to be kept. */
  minGain: number;
}

export const DEFAULT_CART: CartOptions = { maxDepth: 10, minSamplesLeaf: 1, minGain: 0 };

/** Fixed-point scale of leaf probabilities (value = round(P(attack) * 65536)). */
export const LEAF_SCALE = 65536;

/**
 * Flat tree. Node i is a leaf iff feature[i] === -1. Internal nodes go left iff
 * x[feature] <= threshold, with threshold an integer: for integer inputs this is exactly the
 * float split `x <= t` (threshold = floor(t)). `feature` indexes the model's own input list.
 */
export interface FlatTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** P(attack) * LEAF_SCALE, rounded (leaves; internal nodes carry their node value too). */
  value: number[];
  /** Predicted class at the node: 1 iff value > LEAF_SCALE / 2 (ties go to benign). */
  cls: number[];
}

export interface TrainedTree {
  tree: FlatTree;
  /** Float split points as trained (before the integer export), for reference. */
  floatThreshold: number[];
  /** Weighted Gini gain per input feature, normalised to sum 1. */
  importance: number[];
}

/**
 * @param x row-major n x k
 * @param y labels 0/1
 * @param w sample weights
 */
export function trainCart(x: Float64Array, k: number, y: ArrayLike<number>, w: ArrayLike<number>, opt: CartOptions = DEFAULT_CART): TrainedTree {
  const n = y.length;
  const tree: FlatTree = { feature: [], threshold: [], left: [], right: [], value: [], cls: [] };
  const floatThreshold: number[] = [];
  const gain = new Array<number>(k).fill(0);
  // Presort every feature once; children inherit sorted order by stable partition.
  const sorted: Int32Array[] = [];
  for (let f = 0; f < k; f++) {
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => x[a * k + f]! - x[b * k + f]! || a - b);
    sorted.push(idx);
  }
  const goLeft = new Uint8Array(n);

  const newNode = (w0: number, w1: number): number => {
    const p = w0 + w1 > 0 ? w1 / (w0 + w1) : 0;
    const v = Math.round(p * LEAF_SCALE);
    tree.feature.push(-1); tree.threshold.push(0); tree.left.push(-1); tree.right.push(-1);
    tree.value.push(v); tree.cls.push(v > LEAF_SCALE / 2 ? 1 : 0);
    floatThreshold.push(0);
    return tree.feature.length - 1;
  };

  const build = (lists: Int32Array[], depth: number): number => {
    const rows = lists[0]!;
    let w0 = 0, w1 = 0;
    for (let i = 0; i < rows.length; i++) { const r = rows[i]!; if (y[r]) w1 += w[r]!; else w0 += w[r]!; }
    const node = newNode(w0, w1);
    const W = w0 + w1;
    if (depth >= opt.maxDepth || w0 === 0 || w1 === 0 || rows.length < 2 * opt.minSamplesLeaf) return node;
    const parentImp = W * (1 - (w0 / W) ** 2 - (w1 / W) ** 2);
    let best = { gain: opt.minGain, f: -1, thr: 0 };
    for (let f = 0; f < k; f++) {
      const list = lists[f]!;
      let l0 = 0, l1 = 0;
      for (let i = 0; i < list.length - 1; i++) {
        const r = list[i]!;
        if (y[r]) l1 += w[r]!; else l0 += w[r]!;
        const v = x[r * k + f]!, vn = x[list[i + 1]! * k + f]!;
        if (v === vn || i + 1 < opt.minSamplesLeaf || list.length - i - 1 < opt.minSamplesLeaf) continue;
        const L = l0 + l1, R = W - L, r0 = w0 - l0, r1 = w1 - l1;
        const imp = (L > 0 ? L - (l0 * l0 + l1 * l1) / L : 0) + (R > 0 ? R - (r0 * r0 + r1 * r1) / R : 0);
        const g = parentImp - imp;
        if (g > best.gain + 1e-12) best = { gain: g, f, thr: (v + vn) / 2 };
      }
    }
    if (best.f < 0) return node;
    gain[best.f]! += best.gain;
    for (let i = 0; i < rows.length; i++) { const r = rows[i]!; goLeft[r] = x[r * k + best.f]! <= best.thr ? 1 : 0; }
    const leftLists: Int32Array[] = [], rightLists: Int32Array[] = [];
    let nl = 0;
    for (let i = 0; i < rows.length; i++) nl += goLeft[rows[i]!]!;
    for (let f = 0; f < k; f++) {
      const list = lists[f]!;
      const L = new Int32Array(nl), R = new Int32Array(list.length - nl);
      let a = 0, b = 0;
      for (let i = 0; i < list.length; i++) { const r = list[i]!; if (goLeft[r]) L[a++] = r; else R[b++] = r; }
      leftLists.push(L); rightLists.push(R);
    }
    tree.feature[node] = best.f;
    floatThreshold[node] = best.thr;
    tree.threshold[node] = Math.floor(best.thr);
    const l = build(leftLists, depth + 1);
    tree.left[node] = l;
    const r = build(rightLists, depth + 1);
    tree.right[node] = r;
    return node;
  };
  build(sorted, 0);
  const total = gain.reduce((a, b) => a + b, 0);
  return { tree, floatThreshold, importance: gain.map((g) => (total > 0 ? g / total : 0)) };
}

/** Walk the flat tree on one row (integer or float inputs; integer thresholds). */
export function treeLeaf(t: FlatTree, row: ArrayLike<number>, offset = 0): number {
  let node = 0;
  while (t.feature[node]! >= 0) node = row[offset + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
  return node;
}

/** Predict one row: the class and P(attack) in fixed point, as the kernel reports them. */
export function inferTree(t: FlatTree, row: ArrayLike<number>, offset = 0): { attack: boolean; value: number } {
  const leaf = treeLeaf(t, row, offset);
  return { attack: t.cls[leaf] === 1, value: t.value[leaf]! };
}

export function treeDepth(t: FlatTree, node = 0): number {
  if (t.feature[node]! < 0) return 0;
  return 1 + Math.max(treeDepth(t, t.left[node]!), treeDepth(t, t.right[node]!));
}
