import { expect, test } from "bun:test";
import { computeMetrics, prAuc } from "./metrics.ts";

test("confusion-derived metrics match hand computation", () => {
  const y = [1, 1, 1, 0, 0, 0, 0, 1];
  const p = [1, 1, 0, 0, 1, 0, 0, 1];
  const m = computeMetrics(y, p);
  expect([m.tp, m.fp, m.tn, m.fn]).toEqual([3, 1, 3, 1]);
  expect(m.precision).toBeCloseTo(0.75);
  expect(m.recall).toBeCloseTo(0.75);
  expect(m.f1).toBeCloseTo(0.75);
  expect(m.fpr).toBeCloseTo(0.25);
  expect(m.mcc).toBeCloseTo((3 * 3 - 1 * 1) / Math.sqrt(4 * 4 * 4 * 4));
  expect(m.accuracy).toBeCloseTo(0.75);
});

test("PR-AUC is average precision with ties grouped", () => {
  expect(prAuc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3));
  expect(prAuc([1, 1, 0], [3, 2, 1])).toBeCloseTo(1);
  // All tied: one threshold, precision = base rate.
  expect(prAuc([1, 0, 0, 0], [1, 1, 1, 1])).toBeCloseTo(0.25);
});

test("length mismatch is an error", () => {
  expect(() => computeMetrics([1, 0], [1])).toThrow("2 labels but 1 predictions");
});
