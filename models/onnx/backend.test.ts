// The ONNX backend's allocation-free path on the shipped xgb artifact: features written into its
// own Float32 input buffer and answers read from its reused typed arrays equal a bare ORT
// session's outputs on real data-set rows, at every batch size, as the buffer grows and shrinks.
import { expect, test } from "bun:test";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { loadArtifact, type XgbModel } from "../artifact/load.ts";
import { loadCsv, floorRows, selectRows } from "../data/csv.ts";
import { N_FEATURES } from "../data/features.ts";
import { rowsOf } from "../pipeline/evaluate.ts";
import { OnnxBackend } from "./backend.ts";
import { REPO_ROOT, sharedPath } from "../../test/harness/paths.ts";

const DATA = sharedPath("datasets/cic-ids-2017-improved", "ONNX backend vs a bare ORT session");

test.skipIf(DATA === null)("run() on the reused buffers equals a bare ORT session at batch sizes 1..8192", async () => {
  const model = loadArtifact(join(REPO_ROOT, "models/artifacts/xgb")) as XgbModel;
  const k = model.features.length;
  // Every 5th row: all classes of the data set, 8,684 rows.
  const data = rowsOf(loadCsv(DATA!));
  const idx = Int32Array.from({ length: Math.floor(data.n / 5) }, (_, i) => i * 5);
  const x = Float32Array.from(floorRows(selectRows(data.x, N_FEATURES, idx, model.features)));
  const session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  using be = await OnnxBackend.load(model.onnxPath, k);
  let attacks = 0;
  // Rising, falling and repeated sizes: the buffer grows, views shrink, cached tensors are reused.
  for (const [n, from] of [[1, 0], [64, 100], [8192, 0], [3, 7], [1024, 2000], [64, 4000], [8192, 300], [1, 8000]] as const) {
    const rows = x.subarray(from * k, (from + n) * k);
    be.input(n).set(rows);
    const got = await be.run(n);
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", rows.slice(), [n, k]) });
    const p = out.probabilities!.data as Float32Array;
    const l = out.label!.data as BigInt64Array;
    expect(got.prob.length).toBe(n);
    expect(got.label.length).toBe(n);
    for (let i = 0; i < n; i++) {
      if (got.prob[i] !== p[2 * i + 1] || BigInt(got.label[i]!) !== l[i]) {
        throw new Error(`batch ${n} from row ${from}, row ${i}: backend (${got.label[i]}, ${got.prob[i]}), ORT (${l[i]}, ${p[2 * i + 1]})`);
      }
      attacks += got.label[i]!;
    }
  }
  expect(attacks).toBeGreaterThan(0);
  expect(attacks).toBeLessThan(1 + 64 + 8192 + 3 + 1024 + 64 + 8192 + 1);
  await session.release();
});

test("run() before input() for that many rows is refused", async () => {
  const model = loadArtifact(join(REPO_ROOT, "models/artifacts/xgb")) as XgbModel;
  using be = await OnnxBackend.load(model.onnxPath, model.features.length);
  be.input(4);
  await expect(be.run(4096)).rejects.toThrow("run(4096) before input(4096)");
});
