// Seeded random models and feature vectors for kernel-vs-reference tests. Values are drawn to
// reach the edges: saturation, clamping at xmax, negative standardised inputs, zero std.
import type { Int32Params } from "../../models/mlp/int32.ts";
import type { FlatTree } from "../../models/tree/cart.ts";
import { rng } from "../../models/data/split.ts";
import { NUM_FEATURES } from "../../core/ebpf/abi.ts";

export { rng };

export function randInt(rand: () => number, lo: number, hi: number): number {
  return Math.floor(lo + rand() * (hi - lo + 1));
}

export function randomMlp(rand: () => number, shape: number[], b: number, weightBits = 14): Int32Params {
  const features = Array.from({ length: shape[0]! }, () => randInt(rand, 0, 21));
  return {
    features,
    b,
    xmax: features.map(() => (rand() < 0.3 ? 2 ** 31 : randInt(rand, 1, 100_000))),
    mean_q: features.map(() => randInt(rand, -(2 ** 30), 2 ** 30)),
    std_q: features.map(() => (rand() < 0.1 ? 1 : randInt(rand, 1, 2 ** 30))),
    layers: shape.slice(1).map((out, l) => ({
      in: shape[l]!,
      out,
      w_q: Int32Array.from({ length: out * shape[l]! }, () => randInt(rand, -(2 ** weightBits), 2 ** weightBits)),
      bias_q: Int32Array.from({ length: out }, () => randInt(rand, -(2 ** 20), 2 ** 20)),
    })),
  };
}

/** A random tree over `nInputs` model inputs, built breadth-first so children point forward. */
export function randomTree(rand: () => number, nInputs: number, maxDepth: number): FlatTree {
  const t: FlatTree = { feature: [], threshold: [], left: [], right: [], value: [], cls: [] };
  const queue: number[] = [0];
  const depth = [0];
  t.feature.push(0); t.threshold.push(0); t.left.push(-1); t.right.push(-1); t.value.push(0); t.cls.push(0);
  while (queue.length) {
    const i = queue.shift()!;
    const leaf = depth[i]! >= maxDepth || (depth[i]! > 1 && rand() < 0.25);
    if (leaf) {
      const v = randInt(rand, 0, 65536);
      t.feature[i] = -1; t.value[i] = v; t.cls[i] = v > 32768 ? 1 : 0;
      continue;
    }
    t.feature[i] = randInt(rand, 0, nInputs - 1);
    t.threshold[i] = rand() < 0.05 ? -1 : randInt(rand, 0, 5000);
    for (const side of ["left", "right"] as const) {
      const c = t.feature.length;
      t.feature.push(0); t.threshold.push(0); t.left.push(-1); t.right.push(-1); t.value.push(0); t.cls.push(0);
      depth[c] = depth[i]! + 1;
      t[side][i] = c;
      queue.push(c);
    }
  }
  return t;
}

export function randomFeatures(rand: () => number, n: number): bigint[][] {
  return Array.from({ length: n }, () =>
    Array.from({ length: NUM_FEATURES }, () => {
      const r = rand();
      if (r < 0.05) return 0n;
      if (r < 0.10) return BigInt(2 ** 32 + randInt(rand, 0, 2 ** 20)); // beyond any xmax: clamped
      return BigInt(randInt(rand, 0, r < 0.5 ? 5000 : 2 ** 31));
    }),
  );
}

/** The reference walk of a tree whose `feature` indexes the model inputs. */
export function treeRef(t: FlatTree, inputs: bigint[]): { attack: boolean; score: number } {
  let i = 0;
  while (t.feature[i] !== -1) i = inputs[t.feature[i]!]! <= BigInt(t.threshold[i]!) ? t.left[i]! : t.right[i]!;
  return { attack: t.cls[i] === 1, score: t.value[i]! };
}
