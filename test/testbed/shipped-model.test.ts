// The shipped testbed model on the testbed's own test recording (a run it never saw), judged in
// the kernel: F1 >= 0.99, benign FPR at most half a point above the 1.85 % it measures (9 of 486
// benign flows), and the kernel agrees with the int32 reference on every flow.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { REPO_ROOT } from "../harness/paths.ts";

test("models/artifacts/testbed-mlp on models/datasets/testbed/test: F1 >= 0.99, FPR <= 2.4 %, kernel == reference", async () => {
  const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "core/main.ts"), "eval", "--model", "models/artifacts/testbed-mlp", "--data", "models/datasets/testbed/test", "--kernel"], {
    cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code, err).toBe(0);
  const m = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(m.n).toBeGreaterThan(10_000);
  expect(m.f1).toBeGreaterThanOrEqual(0.99);
  expect(m.fpr).toBeLessThanOrEqual(0.024);
  expect(m.kernel_vs_reference_disagreements).toBe(0);
  expect(m.float_vs_int32_disagreements).toBeLessThanOrEqual(5);
}, 120_000);
