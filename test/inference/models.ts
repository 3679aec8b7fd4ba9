// Seeded random models and feature vectors for kernel-vs-reference tests. Values are drawn to
// reach the edges: saturation, clamping at xmax, negative standardised inputs, zero std.
import { layerInt32, sat32, standardise, type Int32Params, type Int32Result } from "../../models/mlp/int32.ts";
import type { FlatTree } from "../../models/tree/cart.ts";
import { rng } from "../../models/data/split.ts";
import { NUM_FEATURES } from "../../core/ebpf/abi.ts";

export { rng };

export function randInt(rand: () => number, lo: number, hi: number): number {
  return Math.floor(lo + rand() * (hi - lo + 1));
}

export function randomMlp(rand: () => number, shape: number[], b: number, weightBits = 14): Int32Params {
  const features = Array.from({ length: shape[0]! }, () => randInt(rand, 0, NUM_FEATURES - 1));
  return {
    features,
    b,
    xmax: features.map(() => (rand() < 0.3 ? 2 ** 31 : randInt(rand, 1, 100_000))),
    // Some inputs on a log scale (log2q8), so step 1b meets every clamp and mean case too.
    log2: features.map(() => rand() < 0.4),
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

/** One input of a stress-test model: a kernel feature and its typical value and spread. */
export interface InputScale {
  feature: number;
  mean: number;
  std: number;
}

/**
 * `count` int32 MLPs of one shape that differ everywhere: each has its own shift b, clamp,
 * mean and std per input, and its own weights and biases in every layer. Weights are He-scaled
 * (variance-preserving through ReLU) so that layers neither saturate nor die on typical inputs:
 * every layer then shapes the logits, and a result computed partly with another model's
 * parameters differs from every whole model (hot-update-stress.test.ts checks it on its flows).
 */
export function distinctMlps(seed: number, count: number, inputs: InputScale[], hidden: number[]): Int32Params[] {
  const rand = rng(seed);
  const uniform = (a: number) => (2 * rand() - 1) * a;
  const shape = [inputs.length, ...hidden, 2];
  return Array.from({ length: count }, (_, m) => {
    const b = [8, 10, 12, 9, 11][m % 5]!;
    const s = 2 ** b;
    return {
      features: inputs.map((x) => x.feature),
      b,
      xmax: inputs.map((x) => Math.round(x.mean + x.std * (1.2 + rand()))),
      mean_q: inputs.map((x) => Math.round((x.mean + uniform(0.5) * x.std) * s)),
      std_q: inputs.map((x) => Math.max(1, Math.round(x.std * (0.6 + rand()) * s))),
      layers: shape.slice(1).map((out, l) => {
        // The output layer is scaled up so that scores spread over ~2^24 values: two different
        // computations then almost never end on the same score by chance.
        const n = shape[l]!, a = Math.sqrt(6 / n), gain = l === shape.length - 2 ? 1024 : 1;
        return {
          in: n,
          out,
          w_q: Int32Array.from({ length: out * n }, () => Math.round(uniform(a) * gain * s)),
          bias_q: Int32Array.from({ length: out }, () => Math.round(uniform(0.5) * gain * s)),
        };
      }),
    };
  });
}

/**
 * Where each piece of a (possibly torn) inference came from: `scaling` gives, per input, the
 * model whose clamp/mean/std the entry stage read; `layers` gives, per linear layer, the model
 * whose weights, biases and shift that layer stage read.
 */
export interface Mix {
  scaling: number[];
  layers: number[];
}

/** The int32 inference with each piece taken from its own model (the pure one when all agree). */
export function inferMixed(models: Int32Params[], mix: Mix, x: ArrayLike<number | bigint>): Int32Result {
  const first = models[mix.scaling[0]!]!;
  const p: Int32Params = {
    ...first,
    xmax: mix.scaling.map((m, i) => models[m]!.xmax[i]!),
    mean_q: mix.scaling.map((m, i) => models[m]!.mean_q[i]!),
    std_q: mix.scaling.map((m, i) => models[m]!.std_q[i]!),
  };
  let a = standardise(p, x);
  const n = first.layers.length;
  mix.layers.forEach((m, l) => { a = layerInt32(models[m]!.layers[l]!, a, models[m]!.b, l < n - 1); });
  const l0 = a[0]!, l1 = a[1]!;
  return { attack: l1 > l0, score: sat32(l1 - l0), logits: a };
}

/**
 * Every way one inference can mix two models `i` (old) and `j` (new) in a slot being rewritten:
 * the entry stage on `i` and the layers from some layer k on from `j` (a later stage ran after
 * the rewrite), or the entry stage reading a half-copied meta (the first r inputs' scaling new).
 */
export function tornMixes(nInputs: number, nLayers: number, i: number, j: number): Mix[] {
  const out: Mix[] = [];
  for (let k = 0; k < nLayers; k++) {
    out.push({ scaling: new Array<number>(nInputs).fill(i), layers: Array.from({ length: nLayers }, (_, l) => (l < k ? i : j)) });
  }
  for (let r = 1; r < nInputs; r++) {
    out.push({ scaling: Array.from({ length: nInputs }, (_, n) => (n < r ? j : i)), layers: new Array<number>(nLayers).fill(j) });
  }
  return out;
}
