// The compiled evaluator gives ONNX Runtime's answers: on every row of the shared CIC data set
// (43,419 rows) the shipped XGBoost artifact through the compiled trees and through a bare ORT
// session on its model.onnx agree on every label, the probabilities to float32 rounding (measured
// max |dp| 0: the same float32 sums in the same order and ORT's float32 logistic). The float32
// compare and the missing-value (NaN) rule are pinned on a hand-made model against ORT too.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { loadArtifact, type XgbModel } from "../artifact/load.ts";
import { loadCsv, floorRows, selectRows } from "../data/csv.ts";
import { N_FEATURES } from "../data/features.ts";
import { rowsOf } from "../pipeline/evaluate.ts";
import { xgbJsonToOnnx, type XgbJson } from "../onnx/xgb2onnx.ts";
import { CompiledEnsemble } from "./compiled.ts";
import { CompiledEnsembleError, flattenXgb } from "./flat.ts";
import { REPO_ROOT, sharedPath } from "../../test/harness/paths.ts";

const DATA = sharedPath("datasets/cic-ids-2017-improved", "compiled evaluator vs ONNX Runtime on the data set");
/** One float32 ulp just below 1: the most a differently rounded exp could move a probability. */
const PROB_TOLERANCE = 2 ** -24;

async function ortScores(path: string, x: Float32Array, n: number, k: number): Promise<{ prob: Float32Array; label: Uint8Array }> {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor("float32", x, [n, k]) });
    const p = out.probabilities!.data as Float32Array;
    const l = out.label!.data as BigInt64Array;
    return { prob: Float32Array.from({ length: n }, (_, i) => p[2 * i + 1]!), label: Uint8Array.from(l, (v) => Number(v)) };
  } finally {
    await s.release();
  }
}

describe("the shipped xgb artifact", () => {
  const model = loadArtifact(join(REPO_ROOT, "models/artifacts/xgb")) as XgbModel;
  const k = model.features.length;

  test.skipIf(DATA === null)("compiled trees and ORT: 0 label disagreements, max |dp| <= 2^-24 on all 43,419 rows", async () => {
    const rows = rowsOf(loadCsv(DATA!));
    expect(rows.n).toBe(43_419);
    const x = Float32Array.from(floorRows(selectRows(rows.x, N_FEATURES, Int32Array.from({ length: rows.n }, (_, i) => i), model.features)));
    const want = await ortScores(model.onnxPath, x, rows.n, k);
    const generated = CompiledEnsemble.load(model, "generated").score(x, rows.n);
    const flat = CompiledEnsemble.load(model, "flat").score(x, rows.n);
    let disagreements = 0, maxDiff = 0, attacks = 0, flatDiffers = 0;
    for (let i = 0; i < rows.n; i++) {
      if (generated.label[i] !== want.label[i]) disagreements++;
      maxDiff = Math.max(maxDiff, Math.abs(generated.prob[i]! - want.prob[i]!));
      if (flat.prob[i] !== generated.prob[i] || flat.label[i] !== generated.label[i]) flatDiffers++;
      attacks += want.label[i]!;
    }
    console.log(`compiled vs ORT on ${rows.n} rows: ${disagreements} label disagreements, max |dp| ${maxDiff}`);
    expect(disagreements).toBe(0);
    expect(maxDiff).toBeLessThanOrEqual(PROB_TOLERANCE);
    expect(flatDiffers).toBe(0); // the generated code and the typed-array walk are the same function
    // Both classes are reached: a constant answer would agree trivially.
    expect(attacks).toBeGreaterThan(30_000);
    expect(attacks).toBeLessThan(rows.n);
  });

  test("run() reuses its buffers across batch sizes, growing and shrinking, with the same answers", () => {
    const ce = CompiledEnsemble.load(model);
    const x = new Float32Array(3000 * k);
    for (let i = 0; i < x.length; i++) x[i] = (i * 7919) % 70_000; // ports, windows, byte counts
    const whole = ce.score(x, 3000);
    for (const n of [1, 2999, 17, 3000, 5]) {
      ce.input(n).set(x.subarray(0, n * k));
      const r = ce.run(n);
      expect(r.prob.length).toBe(n);
      expect([...r.prob]).toEqual([...whole.prob.subarray(0, n)]);
      expect([...r.label]).toEqual([...whole.label.subarray(0, n)]);
    }
  });
});

// tree 0: x0 < 1.00000001 (float32: 1) ? -1 : +1, NaN goes left (default_left 1);
// tree 1: x1 < 0.5 ? 0.25 : -0.75, NaN goes right. base_score 0.5 (margin 0).
const handMade: XgbJson = {
  learner: {
    learner_model_param: { base_score: "5E-1", num_feature: "2" },
    objective: { name: "binary:logistic" },
    gradient_booster: {
      name: "gbtree",
      model: {
        trees: [
          { left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [0, 0, 0], split_conditions: [1.00000001, -1, 1], default_left: [1, 0, 0] },
          { left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [1, 0, 0], split_conditions: [0.5, 0.25, -0.75], default_left: [0, 0, 0] },
        ],
      },
    },
  },
};

describe("comparison semantics, against ORT", () => {
  const dir = mkdtempSync(join(tmpdir(), "xids-compiled-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("float32 threshold (x = 1 is not < float32(1.00000001)), NaN follows default_left, same probabilities", async () => {
    const path = join(dir, "m.onnx");
    writeFileSync(path, xgbJsonToOnnx(handMade, 2).onnx);
    const rows = [[1, 0], [0.9999999, 0], [NaN, 0], [NaN, NaN], [2, NaN], [1, 0.5], [2, 0.4999]];
    const x = Float32Array.from(rows.flat());
    const want = await ortScores(path, x, rows.length, 2);
    for (const kernel of ["generated", "flat"] as const) {
      const got = new CompiledEnsemble(flattenXgb(handMade, 2), kernel).score(x, rows.length);
      expect([...got.label]).toEqual([...want.label]);
      expect([...got.prob]).toEqual([...want.prob]);
    }
    // The margins by hand: x0 = 1 goes right (+1) in float32; in float64 it would go left.
    const m = [1 + 0.25, -1 + 0.25, -1 + 0.25, -1 - 0.75, 1 - 0.75, 1 - 0.75, 1 + 0.25];
    expect([...want.label]).toEqual(m.map((v) => (v > 0 ? 1 : 0)));
    expect([...want.prob].map((p) => p.toFixed(6))).toEqual(m.map((v) => (1 / (1 + Math.exp(-v))).toFixed(6)));
  });

  test("a tree whose child comes before its parent is refused with the tree and node", () => {
    const bad = structuredClone(handMade);
    bad.learner.gradient_booster.model.trees[1]!.left_children = [0, -1, -1];
    expect(() => flattenXgb(bad, 2)).toThrow(new CompiledEnsembleError("tree 1 node 0: children 0, 2 must come after the node, inside the tree"));
    expect(() => flattenXgb(handMade, 3)).toThrow("model has 2 features, expected 3");
  });
});
