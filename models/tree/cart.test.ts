import { expect, test } from "bun:test";
import { inferTree, LEAF_SCALE, trainCart, treeDepth } from "./cart.ts";

test("CART finds the separating split; integer threshold = floor of the float midpoint", () => {
  // Feature 0 separates (<= 3.5 benign), feature 1 is noise.
  const rows = [[1, 5], [2, 1], [3.5, 7], [4.5, 2], [6, 9], [7, 3]];
  const y = [0, 0, 0, 1, 1, 1];
  const t = trainCart(Float64Array.from(rows.flat()), 2, y, new Float64Array(6).fill(1));
  expect(t.tree.feature[0]).toBe(0);
  expect(t.floatThreshold[0]).toBe(4);
  expect(t.tree.threshold[0]).toBe(4);
  expect(t.importance).toEqual([1, 0]);
  expect(treeDepth(t.tree)).toBe(1);
  expect(inferTree(t.tree, [4, 0])).toEqual({ attack: false, value: 0 });
  expect(inferTree(t.tree, [5, 0])).toEqual({ attack: true, value: LEAF_SCALE });
  // Midpoint 2.5 between 2 and 3: integer threshold 2, so x = 2 goes left and x = 3 goes right,
  // exactly like the float split on integer inputs.
  const u = trainCart(Float64Array.from([1, 2, 3, 4]), 1, [0, 0, 1, 1], new Float64Array(4).fill(1));
  expect(u.floatThreshold[0]).toBe(2.5);
  expect(u.tree.threshold[0]).toBe(2);
});

test("sample weights move the leaf probability; ties go to benign", () => {
  // One leaf with one benign and one attack row: P = w1 / (w0 + w1).
  const t = trainCart(Float64Array.from([1, 1]), 1, [0, 1], Float64Array.from([3, 1]));
  expect(t.tree.feature).toEqual([-1]);
  expect(t.tree.value[0]).toBe(LEAF_SCALE / 4);
  const tie = trainCart(Float64Array.from([1, 1]), 1, [0, 1], Float64Array.from([1, 1]));
  expect(tie.tree.value[0]).toBe(LEAF_SCALE / 2);
  expect(tie.tree.cls[0]).toBe(0);
});

test("max depth bounds the tree; children always follow their parent", () => {
  const n = 200;
  const x = Float64Array.from({ length: n }, (_, i) => i);
  const y = Array.from({ length: n }, (_, i) => (Math.floor(i / 3) % 2));
  const t = trainCart(x, 1, y, new Float64Array(n).fill(1), { maxDepth: 4, minSamplesLeaf: 1, minGain: 0 });
  expect(treeDepth(t.tree)).toBeLessThanOrEqual(4);
  t.tree.feature.forEach((f, i) => { if (f >= 0) expect(Math.min(t.tree.left[i]!, t.tree.right[i]!)).toBeGreaterThan(i); });
});
