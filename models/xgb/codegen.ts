// The flat trees compiled to JavaScript (new Function): each tree becomes one nested conditional
// with its thresholds and leaf values as literals, so the JIT sees straight-line compares and no
// array loads for the tree itself. Measured 2-3x the flat walk (BENCHMARKS.md). The trees are
// split into chunks of functions so that no function is too large for the JIT's optimising tiers.
// Only numbers from typed arrays reach the source text: nothing from the artifact is spliced in
// as code.
import type { FlatEnsemble } from "./flat.ts";

/** Adds the trees' leaf values to margin[r] for rows 0..n-1 (row-major x, nFeatures per row). */
export type Accumulator = (x: Float32Array, n: number, margin: Float32Array) => void;

/** Trees per generated function: measured on the shipped 200-tree model (5-10 best, 200 in one
 *  function falls off the optimising JIT). */
export const TREES_PER_FUNCTION = 8;

/** A float32 literal: the double that equals it exactly (shortest round-trip form). */
function lit(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`non-finite tree value ${v}`);
  return Object.is(v, -0) ? "-0" : `(${String(v)})`;
}

function treeExpr(e: FlatEnsemble, j: number): string {
  const f = e.feature[j]!;
  if (f < 0) return lit(e.leaf[j]!);
  if (!Number.isInteger(f) || f >= e.nFeatures) throw new RangeError(`node ${j}: feature ${f} out of range`);
  const v = `x[o+${f}]`;
  // BRANCH_LT: x < t is the true (left) branch; NaN < t is false, so NaN goes left only where
  // missing tracks true.
  const cond = e.missingLeft[j] ? `(${v} < ${lit(e.threshold[j]!)} || ${v} !== ${v})` : `${v} < ${lit(e.threshold[j]!)}`;
  return `(${cond} ? ${treeExpr(e, e.left[j]!)} : ${treeExpr(e, e.right[j]!)})`;
}

export function generateAccumulator(e: FlatEnsemble, treesPerFunction = TREES_PER_FUNCTION): Accumulator {
  const k = e.nFeatures;
  const parts: Accumulator[] = [];
  for (let t0 = 0; t0 < e.roots.length; t0 += treesPerFunction) {
    const lines = [`for (let r = 0, o = 0; r < n; r++, o += ${k}) {`, "  let s = margin[r];"];
    // Math.fround after every add: the sum is float32, tree by tree, as ORT's.
    for (let t = t0; t < Math.min(t0 + treesPerFunction, e.roots.length); t++) lines.push(`  s = Math.fround(s + ${treeExpr(e, e.roots[t]!)});`);
    lines.push("  margin[r] = s;", "}");
    parts.push(new Function("x", "n", "margin", lines.join("\n")) as Accumulator);
  }
  return (x, n, margin) => {
    for (let i = 0; i < parts.length; i++) parts[i]!(x, n, margin);
  };
}
