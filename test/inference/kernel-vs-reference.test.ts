// The in-kernel classifier against the TypeScript oracle, bit for bit, through the same
// tail-called stages that run on live flows (BPF_PROG_TEST_RUN on xids_classify_eval).
import { describe, expect, test } from "bun:test";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { KernelModelError } from "../../plugins/models/kernel/slot-image.ts";
import { ModelSlots, ModelValidationError } from "../../plugins/models/kernel/model-slots.ts";
import { inferInt32 } from "../../models/mlp/int32.ts";
import { randInt, randomFeatures, randomMlp, randomTree, rng, treeRef } from "./models.ts";

describe("in-kernel int32 MLP", () => {
  test("matches the reference on every vector, for several shapes", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const rand = rng(7);
    const rows = randomFeatures(rand, 1500);
    const shapes: [number[], number][] = [[[6, 32, 32, 2], 10], [[22, 64, 64, 64, 2], 16], [[32, 16, 2], 9], [[3, 2], 1], [[9, 17, 5, 2], 7], [[1, 1, 1, 2], 12]];
    // Depth 16 (the paper's bound): 15 hidden layers of width 8 (4 inline in the entry stage, the rest in the layer stage).
    shapes.push([[5, ...Array(15).fill(8), 2], 8]);
    // Inline first (<= 32 wide), then the layer stage from the first wider layer on, narrow ones after it included.
    shapes.push([[7, 30, 34, 6, 2], 11]);
    // A first layer of 33..40 inputs stays inline (every kernel feature fits), as the shipped model's 33.
    shapes.push([[33, 16, 16, 2], 10], [[37, 32, 2], 9]);
    for (const [shape, b] of shapes) {
      const p = randomMlp(rand, shape, b);
      const info = await slots.activate({ kind: "mlp", params: p }, shape.length);
      const got = slots.evaluate(rows);
      let disagreements = 0;
      rows.forEach((row, i) => {
        const ref = inferInt32(p, p.features.map((f) => row[f]!));
        const k = got[i]!;
        if (k.attack !== ref.attack || k.score !== ref.score || k.logits[0] !== ref.logits[0] || k.logits[1] !== ref.logits[1] || k.slot !== info.slot || !k.classified) disagreements++;
      });
      expect({ shape, disagreements }).toEqual({ shape, disagreements: 0 });
    }
  });

  test("saturation is exercised and still agrees", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const rand = rng(99);
    // Huge weights force every accumulator past int32.
    const p = randomMlp(rand, [8, 16, 2], 16, 30);
    await slots.activate({ kind: "mlp", params: p }, 1);
    const rows = randomFeatures(rand, 500);
    const got = slots.evaluate(rows);
    let saturated = 0;
    rows.forEach((row, i) => {
      const ref = inferInt32(p, p.features.map((f) => row[f]!));
      expect([got[i]!.score, got[i]!.logits]).toEqual([ref.score, ref.logits as [number, number]]);
      if (ref.logits.some((l) => l === 2 ** 31 - 1 || l === -(2 ** 31))) saturated++;
    });
    expect(saturated).toBeGreaterThan(0);
  });
});

describe("in-kernel decision tree", () => {
  test("matches the reference walk on every vector", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const rand = rng(11);
    const rows = randomFeatures(rand, 1500);
    for (const depth of [1, 5, 10, 11]) {
      const features = Array.from({ length: randInt(rand, 1, 12) }, () => randInt(rand, 0, 21));
      const tree = randomTree(rand, features.length, depth);
      await slots.activate({ kind: "dt", tree, features }, depth);
      const got = slots.evaluate(rows);
      let disagreements = 0;
      rows.forEach((row, i) => {
        const ref = treeRef(tree, features.map((f) => row[f]!));
        if (got[i]!.attack !== ref.attack || got[i]!.score !== ref.score) disagreements++;
      });
      expect({ depth, nodes: tree.feature.length, disagreements }).toEqual({ depth, nodes: tree.feature.length, disagreements: 0 });
    }
  });
});

describe("model activation", () => {
  test("a bad model is rejected with the reason and the running model is untouched", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const rand = rng(3);
    const good = randomMlp(rand, [4, 8, 2], 8);
    await slots.activate({ kind: "mlp", params: good }, 41);
    const before = slots.info();
    const cases: [string, () => unknown, RegExp][] = [
      ["too wide", () => randomMlp(rand, [4, 65, 2], 8), /65 outputs; the kernel allows 1..64/],
      ["three logits", () => randomMlp(rand, [4, 8, 3], 8), /last layer must have 2 outputs/],
      ["bad shift", () => ({ ...randomMlp(rand, [4, 8, 2], 8), b: 17 }), /shift b=17 is outside 1..16/],
      ["unknown feature", () => ({ ...randomMlp(rand, [4, 8, 2], 8), features: [0, 1, 2, 37] }), /feature 37; the kernel computes features 0..36/],
      ["zero std", () => { const p = randomMlp(rand, [4, 8, 2], 8); p.std_q[2] = 0; return p; }, /std_q 0 must be a positive integer/],
      ["xmax too large", () => { const p = randomMlp(rand, [4, 8, 2], 8); p.xmax[0] = 2 ** 32; return p; }, /xmax 4294967296 is outside/],
      ["shape mismatch", () => { const p = randomMlp(rand, [4, 8, 2], 8); p.layers[1]!.in = 7; return p; }, /layer 1 takes 7 inputs but the previous stage gives 8/],
    ];
    for (const [, make, msg] of cases) {
      await expect(slots.activate({ kind: "mlp", params: make() as never }, 99)).rejects.toThrow(KernelModelError);
      await expect(slots.activate({ kind: "mlp", params: make() as never }, 99)).rejects.toThrow(msg);
    }
    const cyclic = randomTree(rand, 3, 3);
    cyclic.left[0] = 0;
    await expect(slots.activate({ kind: "dt", tree: cyclic, features: [0, 1, 2] }, 99)).rejects.toThrow(/must point forward/);
    expect(slots.info()).toEqual(before);
    expect(slots.evaluate(randomFeatures(rand, 3)).every((r) => r.version === 41)).toBe(true);
  });

  test("a model the kernel computes differently from the reference is never activated", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const rand = rng(5);
    const p = randomMlp(rand, [6, 8, 2], 9);
    await slots.activate({ kind: "mlp", params: p }, 1);
    const probes = randomFeatures(rand, 20);
    const expected = probes.map((row) => inferInt32(p, p.features.map((f) => row[f]!)));
    const wrong = expected.map((e, i) => (i === 7 ? { attack: !e.attack, score: -e.score - 1 } : e));
    await expect(slots.activate({ kind: "mlp", params: p }, 2, { probes, expected: wrong })).rejects.toThrow(ModelValidationError);
    expect(slots.info().version).toBe(1);
    const ok = await slots.activate({ kind: "mlp", params: p }, 3, { probes, expected });
    expect(ok.version).toBe(3);
    expect(slots.info().version).toBe(3);
  });

  test("with no model, records carry no verdict", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const res = slots.evaluate(randomFeatures(rng(1), 4));
    expect(res.every((r) => !r.classified && !r.attack)).toBe(true);
  });
});
