// `xids explain`'s arithmetic on real rows of the shipped model's data: the score it explains is
// the one the kernel computed the verdict from, and the per-feature contributions add up to that
// score minus the baseline's, exactly (integer totals over the permutations).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { artifactBaseline } from "../../models/explain/baseline.ts";
import { explainFlow, referenceScore } from "../../models/explain/explain-flow.ts";
import { shapley } from "../../models/explain/shapley.ts";
import { loadArtifact, type MlpModel } from "../../models/artifact/load.ts";
import { loadCsv } from "../../models/data/csv.ts";
import { N_FEATURES } from "../../models/data/features.ts";
import { inferInt32 } from "../../models/mlp/int32.ts";
import { predictKernel } from "../../plugins/models/kernel/predict.ts";
import { REPO_ROOT } from "../harness/paths.ts";

const MODEL = join(REPO_ROOT, "models/artifacts/matrix-mlp");

describe("explain: Shapley contributions of the shipped int32 MLP", () => {
  const model = loadArtifact(MODEL) as MlpModel;
  const baseline = artifactBaseline(MODEL);
  const data = loadCsv(join(REPO_ROOT, "models/datasets/matrix/seed11.csv.gz"));
  // 20 attack and 20 benign rows spread over the file.
  const pick = (cls: number) => [...Array(data.n).keys()].filter((r) => data.y[r] === cls).filter((_, i, all) => i % Math.floor(all.length / 20) === 0).slice(0, 20);
  const rows = [...pick(1), ...pick(0)].map((r) => Array.from(data.x.subarray(r * N_FEATURES, (r + 1) * N_FEATURES), Math.floor));

  test("the reference score is the kernel's own score and verdict on every row", async () => {
    const x = Float64Array.from(rows.flat());
    const kernel = await predictKernel(model, x, rows.length);
    const ref = rows.map((r) => referenceScore(model, r));
    expect(ref).toEqual([...kernel.score]);
    expect(ref.map((s): number => (s > 0 ? 1 : 0))).toEqual([...kernel.pred]);
    // Both classes are among the rows, or the check would say little.
    expect(new Set(kernel.pred).size).toBe(2);
  });

  test("contributions sum to score minus baseline score: exactly in integer totals, to 1e-9 as averages", () => {
    expect(referenceScore(model, baseline.values)).toBeLessThan(0); // the baseline row is benign
    for (const row of rows) {
      const e = explainFlow(model, baseline, row, 16);
      expect(e.exact).toBe(true);
      expect(e.score).toBe(referenceScore(model, row));
      expect(e.baselineScore).toBe(referenceScore(model, baseline.values));
      const sum = e.features.reduce((s, f) => s + f.contribution, 0);
      expect(Math.abs(sum - (e.score - e.baselineScore))).toBeLessThan(1e-9 * Math.max(1, Math.abs(e.score - e.baselineScore)));
      // Inputs at the baseline's value get nothing; the list is sorted by |contribution|.
      for (const f of e.features) if (f.value === f.baseline) expect(f.contribution).toBe(0);
      expect(e.features.map((f) => Math.abs(f.contribution))).toEqual(e.features.map((f) => Math.abs(f.contribution)).sort((a, b) => b - a));
    }
    // An attack row moves the score by a large amount, and the top features carry most of it.
    const attack = explainFlow(model, baseline, rows[0]!, 16);
    expect(attack.score).toBeGreaterThan(0);
    expect(attack.features[0]!.contribution).not.toBe(0);
  });

  test("the estimate converges to the exact Shapley values (all 24 orders of 4 moved inputs of a real attack row)", () => {
    const score = (v: number[]) => inferInt32(model.params, v).score;
    const b = model.features.map((i) => baseline.values[i]!);
    const attack = model.features.map((i) => rows[0]![i]!);
    // Four inputs at the attack row's values, the rest at the baseline's: brute force is 4! orders.
    const moved = [...b.keys()].filter((k) => attack[k] !== b[k]).slice(0, 4);
    expect(moved.length).toBe(4);
    const x = b.map((v, k) => (moved.includes(k) ? attack[k]! : v));
    const exact = new Array<number>(b.length).fill(0);
    const orders = (xs: number[]): number[][] => (xs.length <= 1 ? [xs] : xs.flatMap((h) => orders(xs.filter((y) => y !== h)).map((t) => [h, ...t])));
    for (const order of orders(moved)) {
      const z = [...b];
      let prev = score(z);
      for (const k of order) {
        z[k] = x[k]!;
        const cur = score(z);
        exact[k]! += (cur - prev) / 24;
        prev = cur;
      }
    }
    const est = shapley(score, x, b, 4000, 3).contributions;
    const scale = Math.max(...exact.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    for (const k of moved) expect(Math.abs(est[k]! - exact[k]!)).toBeLessThan(0.01 * scale);
  });

  test("on an additive score the estimate is the exact Shapley value (each input's own term)", () => {
    const w = [3, -5, 7, 11];
    const f = (v: number[]) => v.reduce((s, x, i) => s + w[i]! * x, 0);
    const a = shapley(f, [1, 2, 3, 4], [0, 0, 0, 0], 8, 7);
    expect(a.contributions).toEqual([3, -10, 21, 44]);
    // An interaction is split between the two inputs that make it: min(x0, x1) from (0,0) to (2,2).
    const m = shapley((v) => Math.min(v[0]!, v[1]!), [2, 2], [0, 0], 2, 1);
    expect(m.contributions).toEqual([1, 1]);
  });

  test("bad input is refused with what is wrong", () => {
    expect(() => shapley((v) => v[0]!, [1], [0, 0])).toThrow("the flow has 1 inputs, the baseline 2");
    expect(() => shapley((v) => v[0]!, [1], [0], 0)).toThrow("permutations: expected a positive integer, got 0");
    expect(() => explainFlow(model, baseline, new Array(22).fill(0))).toThrow("the flow has 22 features, the model reads feature 36");
  });
});
