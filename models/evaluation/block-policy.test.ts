// The block policy one verdict at a time (BlockJudge, what the shadow model uses live): the same
// decisions as the kernel's rule (test/inference/block-policy.test.ts checks simulateBlocks, built
// on it, against the kernel), and bounded memory that forgets the least recently judged source.
import { expect, test } from "bun:test";
import { BlockJudge } from "./block-policy.ts";

const POLICY = { minAttacks: 3, minAttackPct: 50, windowUs: 30_000_000 };
const v = (source: string, s: number, attack: boolean) => ({ source, endUs: s * 1_000_000, attack });

test("blocks on the third attack verdict when attacks are at least half of the window", () => {
  const j = new BlockJudge(POLICY);
  expect([v("a", 1, true), v("a", 2, true), v("a", 3, true)].map((x) => j.judge(x))).toEqual([false, false, true]);
  // Benign verdicts dilute: 3 attacks of 7 verdicts is under 50 %, the fourth makes 4 of 8.
  const k = new BlockJudge(POLICY);
  const seq = [false, false, false, false, true, true, true, true].map((a, i) => k.judge(v("b", i + 1, a)));
  expect(seq).toEqual([false, false, false, false, false, false, false, true]);
});

test("with maxSources, the least recently judged source's evidence is forgotten first", () => {
  const interleaved = ["a", "b", "c", "a", "b", "c", "a", "b", "c"].map((s, i) => v(s, i + 1, true));
  const unbounded = new BlockJudge(POLICY);
  expect(interleaved.map((x) => unbounded.judge(x))).toEqual([false, false, false, false, false, false, true, true, true]);
  // Room for two: each source was evicted before it came back, so it never holds three attacks.
  const two = new BlockJudge(POLICY, 2);
  expect(interleaved.map((x) => two.judge(x))).toEqual(Array(9).fill(false));
  expect(two.sources).toBe(2);
  // Judging a source refreshes it: "a" stays while "b" and "c" take turns in the other place.
  const refreshed = new BlockJudge(POLICY, 2);
  const seq = ["a", "b", "a", "c", "a"].map((s, i) => refreshed.judge(v(s, i + 1, true)));
  expect(seq).toEqual([false, false, false, false, true]);
});
