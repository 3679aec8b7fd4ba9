// One prediction interface for every backend: kernel feature vectors in (n x 22, integers as
// the kernel derives them), verdicts and scores out. A kernel backend (BPF_PROG_TEST_RUN) plugs
// in by implementing `Predictor` and reusing `computeMetrics`.
import { floorRows, selectRows } from "../data/csv.ts";
import { N_FEATURES } from "../data/features.ts";
import type { Model } from "../artifact/load.ts";
import { predictFloat } from "../mlp/float.ts";
import { inferInt32 } from "../mlp/int32.ts";
import { OnnxBackend } from "../onnx/backend.ts";
import { inferTree } from "../tree/cart.ts";
import { gbtVerdict } from "../gbt/ensemble.ts";

export interface Predictions {
  /** 1 = attack. */
  pred: Uint8Array;
  /** Higher = more attack-like (int32 logit difference, leaf value, probability). */
  score: Float64Array;
  /** MLP only: the float model's verdicts on the same inputs. */
  floatPred?: Uint8Array;
}

/** x: row-major n x 22 kernel feature vectors. */
export type Predictor = (model: Model, x: Float64Array, n: number) => Promise<Predictions>;

/** User-space inference of any artifact kind on floored (kernel-equivalent) inputs. */
export const predictUserSpace: Predictor = async (model, x22, n) => {
  if (x22.length !== n * N_FEATURES) throw new RangeError(`expected ${n} x ${N_FEATURES} feature values, got ${x22.length}`);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const k = model.features.length;
  const x = floorRows(selectRows(x22, N_FEATURES, rows, model.features));
  const pred = new Uint8Array(n);
  const score = new Float64Array(n);
  switch (model.kind) {
    case "mlp-int32": {
      const floatPred = new Uint8Array(n);
      const row = new Array<number>(k);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) row[c] = x[i * k + c]!;
        const r = inferInt32(model.params, row);
        pred[i] = r.attack ? 1 : 0;
        score[i] = r.score;
        floatPred[i] = predictFloat(model.float, x, i * k).attack ? 1 : 0;
      }
      return { pred, score, floatPred };
    }
    case "dt":
      for (let i = 0; i < n; i++) {
        const r = inferTree(model.tree, x, i * k);
        pred[i] = r.attack ? 1 : 0;
        score[i] = r.value;
      }
      return { pred, score };
    case "gbt":
      for (let i = 0; i < n; i++) {
        const r = gbtVerdict(model.ensemble, (c) => x[i * k + c]!);
        pred[i] = r.attack ? 1 : 0;
        score[i] = r.score;
      }
      return { pred, score };
    case "xgb": {
      using be = await OnnxBackend.load(model.onnxPath, k);
      const out = await be.score(x, n);
      return { pred: out.label, score: Float64Array.from(out.prob) };
    }
  }
};
