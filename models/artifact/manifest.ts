// The model artifact: a folder with manifest.json and parameter files. The manifest is the
// contract between training, the kernel loader and user-space backends; `validate*` below turn
// every way it can be wrong into one exact message.
import { FEATURES, N_FEATURES } from "../data/features.ts";
import type { Metrics } from "../metrics.ts";

export const FORMAT = "xids-model";
export const FORMAT_VERSION = 1;
export type ModelKind = "mlp-int32" | "dt" | "xgb" | "gbt";
export const KINDS: readonly ModelKind[] = ["mlp-int32", "dt", "xgb", "gbt"];

export interface ManifestFeature {
  /** Index into the kernel's 22 features (bpf/FEATURES.md). */
  index: number;
  name: string;
  semantics: string;
  /** Declared range: the kernel clamps the feature to [0, xmax]. */
  xmax: number;
}

export interface TrainingInfo {
  data: string;
  /** sha256 over the CSV files (name and bytes, sorted by name). */
  data_digest: string;
  rows: number;
  split: { seed: number; train: number; val: number; test: number; rows: { train: number; val: number; test: number } };
  class_weights: [number, number];
  command: string;
  load_report: unknown;
  options: Record<string, unknown>;
}

export interface ManifestBase {
  format: typeof FORMAT;
  format_version: number;
  kind: ModelKind;
  features: ManifestFeature[];
  training: TrainingInfo;
  /** Metrics on the test split (floored integer inputs, as the kernel delivers them). */
  metrics: { test: Omit<Metrics, "tp" | "fp" | "tn" | "fn"> & Partial<Metrics>; [k: string]: unknown };
  /** Parameter files inside the artifact folder. */
  files: Record<string, string>;
}

export interface MlpManifest extends ManifestBase {
  kind: "mlp-int32";
  /** log2: per input, standardise log2q8 of the clamped value (INT32_SPEC.md step 1b); absent: none. */
  scaler: { mean: number[]; std: number[]; mean_q: number[]; std_q: number[]; log2?: boolean[] };
  quantization: { s: number; b: number; alpha: number; fraction: number; ecdf_met: boolean; overflow: unknown };
  layers: { in: number; out: number; activation: "relu" | "none" }[];
  files: { params: string; float: string };
}

export interface DtManifest extends ManifestBase {
  kind: "dt";
  tree: { nodes: number; depth: number; leaf_scale: number; max_depth: number };
  files: { tree: string };
}

export interface XgbManifest extends ManifestBase {
  kind: "xgb";
  xgboost: { version: string; rounds: number; max_depth: number; eta: number; trees: number; nodes: number };
  files: { onnx: string; xgboost: string; test_predictions: string };
}

/** Boosted trees as the kernel runs them (models/GBT_SPEC.md), converted from an XGBoost booster. */
export interface GbtManifest extends ManifestBase {
  kind: "gbt";
  gbt: { trees: number; max_depth: number; eta: number; nodes: number; steps: number; leaf_scale: number; base: number; threshold: number; bytes: number; xgboost_version: string };
  files: { ensemble: string };
}

export type Manifest = MlpManifest | DtManifest | XgbManifest | GbtManifest;

export class ArtifactError extends Error {
  constructor(dir: string, reason: string) {
    super(`invalid model artifact ${dir}: ${reason}`);
    this.name = "ArtifactError";
  }
}

export function manifestFeatures(indices: number[]): ManifestFeature[] {
  return indices.map((i) => {
    const f = FEATURES[i]!;
    return { index: i, name: f.name, semantics: f.semantics, xmax: f.xmax };
  });
}

type Check = (cond: unknown, reason: string) => asserts cond;

/** Checks common to every kind; returns the feature index list. */
export function validateBase(m: Record<string, unknown>, check: Check): number[] {
  check(m.format === FORMAT, `manifest.format must be '${FORMAT}', got ${JSON.stringify(m.format)}`);
  check(m.format_version === FORMAT_VERSION, `unsupported format_version ${JSON.stringify(m.format_version)} (this build reads ${FORMAT_VERSION})`);
  check(KINDS.includes(m.kind as ModelKind), `unknown kind ${JSON.stringify(m.kind)} (expected one of ${KINDS.join(", ")})`);
  check(Array.isArray(m.features) && m.features.length > 0, "manifest.features must be a non-empty array");
  const seen = new Set<number>();
  const features = m.features as Partial<ManifestFeature>[];
  features.forEach((f, i) => {
    check(f && typeof f === "object", `features[${i}] is not an object`);
    check(Number.isInteger(f.index) && f.index! >= 0 && f.index! < N_FEATURES, `features[${i}].index ${JSON.stringify(f.index)} is not a kernel feature index 0..${N_FEATURES - 1}`);
    const k = FEATURES[f.index!]!;
    check(typeof f.name === "string", `features[${i}] (index ${f.index}) has no name`);
    check(f.name === k.name, `features[${i}] name '${f.name}' does not match kernel feature ${f.index} '${k.name}'`);
    check(!seen.has(f.index!), `features[${i}]: feature ${f.index} '${k.name}' listed twice`);
    seen.add(f.index!);
    check(Number.isInteger(f.xmax) && f.xmax! >= 1 && f.xmax! <= 2 ** 31, `features[${i}] '${k.name}': xmax ${JSON.stringify(f.xmax)} must be an integer in 1..2^31`);
  });
  check(m.metrics && typeof m.metrics === "object", "manifest.metrics missing");
  check(m.files && typeof m.files === "object", "manifest.files missing");
  return features.map((f) => f.index!);
}
