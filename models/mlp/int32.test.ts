import { expect, test } from "bun:test";
import { I32_MAX, I32_MIN, inferInt32, layerInt32, sat32, standardise, type Int32Params } from "./int32.ts";

// b = 2 (s = 4) keeps hand computation easy.
const base: Int32Params = {
  features: [0, 1], xmax: [100, 2 ** 31], mean_q: [40, 8], std_q: [8, 4], b: 2,
  layers: [
    { in: 2, out: 2, w_q: Int32Array.from([4, -4, -2, 6]), bias_q: Int32Array.from([1, -3]) },
    { in: 2, out: 2, w_q: Int32Array.from([4, 0, 0, 4]), bias_q: Int32Array.from([0, 0]) },
  ],
};

test("standardise: clamp, unsigned division with the sign restored (truncation toward zero)", () => {
  // x0 = 7: num = 28 - 40 = -12; mag = (12 << 2) / 8 = 6 -> -6. x1 = 3: num = 12 - 8 = 4; mag = 16/4 = 4.
  expect(standardise(base, [7, 3])).toEqual([-6, 4]);
  // x0 = 9: num = 36 - 40 = -4; mag = 16 / 8 = 2 -> -2 (a signed floor division would give the same here;
  // x0 = 10: num = 0).
  expect(standardise(base, [10, 2])).toEqual([0, 0]);
  // num = -3 (mean_q 43): mag = 12 / 8 = 1 -> -1, where floor(-12/8) would be -2.
  expect(standardise({ ...base, mean_q: [43, 8] }, [10, 2])).toEqual([-1, 0]);
  // Clamp at xmax = 100: num = 400 - 40 = 360; mag = 1440 / 8 = 180.
  expect(standardise(base, [1_000_000, 2])).toEqual([180, 0]);
  expect(standardise(base, [1_000_000n, 2n])).toEqual([180, 0]);
});

test("layer: 64-bit sum, arithmetic shift (floor for negatives), ReLU only when asked", () => {
  // acc0 = 4*-6 + -4*4 + (1<<2) = -24 - 16 + 4 = -36 -> -9; acc1 = -2*-6 + 6*4 - 12 = 24 -> 6.
  expect(layerInt32(base.layers[0]!, [-6, 4], 2, false)).toEqual([-9, 6]);
  expect(layerInt32(base.layers[0]!, [-6, 4], 2, true)).toEqual([0, 6]);
  // -7 >> 2 = -2 (floor), not -1 (truncation).
  expect(layerInt32({ in: 1, out: 1, w_q: Int32Array.from([-7]), bias_q: Int32Array.from([0]) }, [1], 2, false)).toEqual([-2]);
});

test("inferInt32 end to end, with the score in 1/s units", () => {
  // Hidden [0, 6] -> logits [(0)>>2, (24)>>2] = [0, 6].
  const r = inferInt32(base, [7, 3]);
  expect(r.logits).toEqual([0, 6]);
  expect(r.attack).toBe(true);
  expect(r.score).toBe(6);
});

test("ties go to benign", () => {
  const p: Int32Params = { ...base, layers: [{ in: 2, out: 2, w_q: Int32Array.from([0, 0, 0, 0]), bias_q: Int32Array.from([5, 5]) }] };
  const r = inferInt32(p, [7, 3]);
  expect(r.logits).toEqual([5, 5]);
  expect(r.attack).toBe(false);
  expect(r.score).toBe(0);
});

test("products beyond 2^53 are exact and saturate to int32", () => {
  // a0 saturates: num = 2^31·2^16, (|num| << 16) / 1 = 2^63 -> sat32 = 2^31 - 1.
  const big: Int32Params = {
    features: [0], xmax: [2 ** 31], mean_q: [0], std_q: [1], b: 16,
    layers: [{ in: 1, out: 2, w_q: Int32Array.from([I32_MAX, -I32_MAX]), bias_q: Int32Array.from([0, 0]) }],
  };
  expect(standardise(big, [2n ** 40n])).toEqual([I32_MAX]);
  // acc = (2^31-1)^2 ≈ 2^62: exact only in BigInt; >> 16 then saturates.
  const r = inferInt32(big, [2 ** 31]);
  expect(r.logits).toEqual([I32_MAX, I32_MIN]);
  // score = sat32(I32_MIN - I32_MAX).
  expect(r.score).toBe(I32_MIN);
  expect(r.attack).toBe(false);
  // A product just above 2^53 that doubles would round: 3·(2^52+1) + 1 with b = 1.
  const exact: Int32Params = {
    features: [0], xmax: [2 ** 31], mean_q: [0], std_q: [1], b: 1,
    layers: [{ in: 1, out: 2, w_q: Int32Array.from([I32_MAX, 1]), bias_q: Int32Array.from([0, 0]) }],
  };
  // a0 = sat32(((x<<1)<<1)/1) = 4x; x = 2^29 - 1 -> a0 = 2^31 - 4.
  const a0 = 2 ** 31 - 4;
  const acc = BigInt(I32_MAX) * BigInt(a0);
  expect(inferInt32(exact, [2 ** 29 - 1]).logits[0]).toBe(sat32(Number(acc >> 1n)));
  expect(layerInt32({ in: 2, out: 1, w_q: Int32Array.from([I32_MAX, 1]), bias_q: Int32Array.from([0]) }, [I32_MAX, 1], 1, false))
    .toEqual([sat32(Number(((BigInt(I32_MAX) * BigInt(I32_MAX) + 1n) >> 1n)))]);
  expect(layerInt32({ in: 2, out: 1, w_q: Int32Array.from([65536, -1]), bias_q: Int32Array.from([0]) }, [65535, 3], 16, false))
    .toEqual([Number((65536n * 65535n - 3n) >> 16n)]);
});

test("inputs must be u64 integers of the right count", () => {
  expect(() => inferInt32(base, [1.5, 2])).toThrow("not a u64 integer");
  expect(() => inferInt32(base, [-1, 2])).toThrow("not a u64 integer");
  expect(() => inferInt32(base, [1])).toThrow("expected 2 features, got 1");
});
