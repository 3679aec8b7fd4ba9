// The shipped model (the default configuration's and the demo's) on a run it never saw: one more
// recording of the whole scenario matrix, kept out of its training data, judged in the kernel. It
// measures F1 0.9995 and 2 false positives over the run's 4,516 benign flows (0.04 %, fourth
// recording; the model before it, on features 0..31: 0.9990 and 1); the bounds leave room for a
// few flows, not for a model that flags 1 % more benign traffic (45 flows).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { REPO_ROOT } from "../harness/paths.ts";

test("models/artifacts/matrix-mlp on models/datasets/matrix-holdout (unseen run): F1 >= 0.995, FPR <= 0.3 %, kernel == reference", async () => {
  const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "core/main.ts"), "eval", "--model", "models/artifacts/matrix-mlp", "--data", "models/datasets/matrix-holdout/seed26.csv.gz", "--kernel"], {
    cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code, err).toBe(0);
  expect(err).toContain("(33 features)");
  const m = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(m.n).toBeGreaterThan(50_000);
  expect(m.f1).toBeGreaterThanOrEqual(0.995);
  expect(m.fpr).toBeLessThanOrEqual(0.003);
  expect(m.kernel_vs_reference_disagreements).toBe(0);
  expect(m.float_vs_int32_disagreements).toBeLessThanOrEqual(5);
}, 120_000);
