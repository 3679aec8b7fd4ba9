import { expect, test } from "bun:test";
import { chooseBits, overflowAnalysis, quantize, roundHalfAway } from "./quantize.ts";
import type { FloatMlp } from "./float.ts";
import { inferInt32 } from "./int32.ts";
import { predictFloat } from "./float.ts";

test("ECDF rule: smallest s = 2^b with Pr(|p| <= 1/s) <= alpha", () => {
  // 1000 params: 10 at 0.003 (<= 1/256, > 1/512), rest at 1. alpha 0.005 -> 1% at b <= 8, 0% from b = 9.
  const p = [...Array(10).fill(0.003), ...Array(990).fill(1)];
  const c = chooseBits(p, 0.005);
  expect(c.b).toBe(9);
  expect(c.fraction).toBe(0);
  expect(c.met).toBe(true);
  expect(c.ecdf[7]).toEqual({ b: 8, fraction: 0.01 });
  // alpha 0.01 already holds at b = 1? No: at b = 1, |p| <= 0.5 covers the 10 -> 1% <= 1%.
  expect(chooseBits(p, 0.01).b).toBe(1);
  // Exact zeros never pass: b capped at 16 and reported as not met.
  const z = chooseBits([0, 0, 1], 0.005);
  expect(z).toMatchObject({ b: 16, met: false });
});

test("rounding is symmetric", () => {
  expect([roundHalfAway(2.5), roundHalfAway(-2.5), roundHalfAway(-0.4)]).toEqual([3, -3, -0]);
});

const fm: FloatMlp = {
  mean: Float64Array.from([10, 0.5]), std: Float64Array.from([4, 0.25]), xmax: Float64Array.from([1000, 1]),
  layers: [
    { in: 2, out: 3, w: Float64Array.from([0.5, -1.25, 0.75, 0.3, -0.2, 1.1]), bias: Float64Array.from([0.1, -0.2, 0.05]) },
    { in: 3, out: 2, w: Float64Array.from([1, -0.5, 0.25, -1, 0.5, 0.75]), bias: Float64Array.from([0.2, -0.1]) },
  ],
};

test("quantize scales by 2^b and the int32 model tracks the float one", () => {
  const q = quantize(fm, [3, 7], 10);
  expect(q.mean_q).toEqual([10240, 512]);
  expect(q.std_q).toEqual([4096, 256]);
  expect(Array.from(q.layers[0]!.w_q)).toEqual([512, -1280, 768, 307, -205, 1126]);
  for (const x of [[0, 0], [12, 1], [30, 0], [3, 1], [1000, 1]]) {
    const f = predictFloat(fm, x).score;
    const i = inferInt32(q, x).score / 1024;
    expect(Math.abs(f - i)).toBeLessThan(0.02);
  }
});

test("overflow analysis bounds every accumulator and rejects what it cannot prove", () => {
  const q = quantize(fm, [3, 7], 10);
  const ok = overflowAnalysis(q);
  expect(ok.ok).toBe(true);
  // Input 0: |num| <= max(10240, 1000·1024 - 10240) = 1013760; z <= 1013760·1024/4096 = 253440.
  expect(ok.maxShiftedNum).toBe(String(1013760 * 1024));
  // Three saturated inputs times three maximal weights: 3·(2^31-1)·2^31 > 2^63.
  const bad = { ...q, features: [0, 1, 2], xmax: [2 ** 31, 2 ** 31, 2 ** 31], b: 16, mean_q: [0, 0, 0], std_q: [1, 1, 1] };
  bad.layers = [{ in: 3, out: 2, w_q: Int32Array.from([2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 1, 1, 1]), bias_q: Int32Array.from([0, 0]) }];
  const r = overflowAnalysis(bad);
  expect(r.ok).toBe(false);
  expect(r.problems.join("; ")).toContain("layer 0: |acc| can reach");
});
