// `xids bench --mlp-sweep` end to end on the real data and kernel, one shape and one epoch: the
// row carries every figure (the parameter bytes exact, the rest numbers in range), the shipped
// model's reference row is there, and --artifact writes an artifact that loads and says what judged
// it. Timings are only checked to be positive numbers, never compared with anything.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadArtifact } from "../models/artifact/load.ts";

const REPO = join(import.meta.dir, "..");

test("xids bench --mlp-sweep --shapes 8 --epochs 1 --quick --artifact DIR --json", async () => {
  const dir = mkdtempSync(join(tmpdir(), "xids-sweep-"));
  try {
    const out = join(dir, "33-8-2");
    const proc = Bun.spawn([process.execPath, "core/main.ts", "bench", "--mlp-sweep", "--shapes", "8", "--epochs", "1", "--quick", "--artifact", out, "--json"], {
      cwd: REPO, stdout: "pipe", stderr: "pipe", timeout: 150_000,
    });
    const [stdout, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toStartWith("| shape | params bytes | holdout F1 | recall |");
    const j = JSON.parse(lines.at(-1)!) as { epochs: number; rows: Record<string, unknown>[] };
    expect(j.epochs).toBe(1);
    expect(j.rows.map((r) => [r.shape, r.source])).toEqual([[[33, 8, 2], "sweep"], [[33, 16, 16, 2], "shipped"]]);
    const [row, shipped] = j.rows as { params_bytes: number; holdout_f1: number; holdout_recall: number; holdout_fpr: number; kernel_ns: number }[];
    // Weights and biases (4 B each) plus 3 x 8 B of standardisation per input.
    expect(row!.params_bytes).toBe(4 * (33 * 8 + 8 + 8 * 2 + 2) + 24 * 33);
    expect(shipped!.params_bytes).toBe(4 * (33 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2) + 24 * 33);
    for (const r of [row!, shipped!]) {
      for (const k of ["holdout_f1", "holdout_recall", "holdout_fpr"] as const) expect(r[k] >= 0 && r[k] <= 1, k).toBe(true);
      expect(r.kernel_ns, "kernel_ns").toBeGreaterThan(0);
    }
    // The shipped model's holdout figures are the ones test/testbed/shipped-model.test.ts bounds.
    expect(shipped!.holdout_f1).toBeGreaterThanOrEqual(0.995);
    const art = loadArtifact(out);
    expect(art.kind).toBe("mlp-int32");
    expect(art.manifest.metrics.test_is).toContain("matrix-holdout");
    expect(art.manifest.metrics.test.f1).toBeCloseTo(row!.holdout_f1, 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
