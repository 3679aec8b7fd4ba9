// The two user-space backends for an xgb artifact behind one interface: ONNX Runtime on the
// artifact's model.onnx, or the compiled evaluator on its xgboost.json (the same trees, the same
// answers on every row: models/xgb/compiled.test.ts). Both write into buffers they own.
import type { XgbModel } from "../artifact/load.ts";
import { OnnxBackend, type OnnxScores } from "../onnx/backend.ts";
import { CompiledEnsemble } from "./compiled.ts";

export const XGB_BACKENDS = ["onnx", "compiled"] as const;
export type XgbBackendName = (typeof XGB_BACKENDS)[number];

export interface XgbScorer {
  readonly nFeatures: number;
  /** The input buffer for n rows (row-major n x nFeatures), valid until the next input(). */
  input(n: number): Float32Array;
  /** Scores the rows in the input buffer; the arrays are reused by the next call. */
  run(n: number): OnnxScores | Promise<OnnxScores>;
  close(): void;
}

export async function openXgbScorer(model: XgbModel, backend: XgbBackendName): Promise<XgbScorer> {
  switch (backend) {
    case "onnx": return OnnxBackend.load(model.onnxPath, model.features.length);
    case "compiled": return CompiledEnsemble.load(model);
  }
}
