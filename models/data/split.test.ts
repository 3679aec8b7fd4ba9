import { expect, test } from "bun:test";
import { classWeights, stratifiedSplit } from "./split.ts";

const strata = [...Array(100).fill("BENIGN"), ...Array(900).fill("DoS"), ...Array(10).fill("Heartbleed")];

test("stratified split is seeded, disjoint, complete and proportional per class", () => {
  const a = stratifiedSplit(strata, { seed: 1, train: 0.6, val: 0.2 });
  const b = stratifiedSplit(strata, { seed: 1, train: 0.6, val: 0.2 });
  const c = stratifiedSplit(strata, { seed: 2, train: 0.6, val: 0.2 });
  expect(Array.from(a.test)).toEqual(Array.from(b.test));
  expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
  const all = [...a.train, ...a.val, ...a.test].sort((x, y) => x - y);
  expect(all).toEqual(Array.from({ length: strata.length }, (_, i) => i));
  const count = (idx: Int32Array, s: string) => Array.from(idx).filter((i) => strata[i] === s).length;
  expect([count(a.train, "BENIGN"), count(a.val, "BENIGN"), count(a.test, "BENIGN")]).toEqual([60, 20, 20]);
  expect([count(a.train, "Heartbleed"), count(a.val, "Heartbleed"), count(a.test, "Heartbleed")]).toEqual([6, 2, 2]);
});

test("balanced class weights make both classes weigh n/2", () => {
  const y = [...Array(10).fill(0), ...Array(90).fill(1)];
  const [w0, w1] = classWeights(y);
  expect(w0 * 10).toBeCloseTo(50);
  expect(w1 * 90).toBeCloseTo(50);
  expect(classWeights(y, 2)[0]).toBeCloseTo(2 * w0);
});
