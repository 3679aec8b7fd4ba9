// Public API of the models package: what the kernel loader, the model plugins and the kernel
// evaluation use. Everything else under models/ is an implementation detail.
export { loadArtifact, GBT_MAX_NODES, GBT_MAX_STEPS, type Model, type MlpModel, type DtModel, type XgbModel, type GbtModel } from "./artifact/load.ts";
export { gbtMargin, gbtVerdict, kernelValue, validateEnsemble, GbtError, type GbtEnsemble } from "./gbt/ensemble.ts";
export { ArtifactError, FORMAT, FORMAT_VERSION, type Manifest, type ManifestFeature } from "./artifact/manifest.ts";
export { CONTEXT_FEATURES, FEATURES, N_FEATURES, N_FLOW_FEATURES, featureByName, type FeatureDef } from "./data/features.ts";
export { loadCsv, floorRows, selectRows, type Dataset, type LoadReport } from "./data/csv.ts";
export { stratifiedSplit, classWeights } from "./data/split.ts";
export { inferInt32, standardise, layerInt32, sat32, type Int32Params, type Int32Layer, type Int32Result } from "./mlp/int32.ts";
export { inferFloat, predictFloat, type FloatMlp } from "./mlp/float.ts";
export { chooseBits, quantize, overflowAnalysis } from "./mlp/quantize.ts";
export { inferTree, treeLeaf, LEAF_SCALE, type FlatTree } from "./tree/cart.ts";
export { OnnxBackend, type OnnxScores } from "./onnx/backend.ts";
export { xgbJsonToOnnx } from "./onnx/xgb2onnx.ts";
export { CompiledEnsemble, type CompiledKernel } from "./xgb/compiled.ts";
export { CompiledEnsembleError } from "./xgb/flat.ts";
export { openXgbScorer, XGB_BACKENDS, type XgbBackendName, type XgbScorer } from "./xgb/backends.ts";
export { computeMetrics, prAuc, type Metrics } from "./metrics.ts";
export { predictUserSpace, type Predictor, type Predictions } from "./pipeline/predict.ts";
export { evaluate, rowsOf, testRows, type EvalResult } from "./pipeline/evaluate.ts";
export { sharedDir, datasetDir } from "./config.ts";
