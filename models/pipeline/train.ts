// Training pipeline: data -> split -> Gini feature ranking and top-K curve -> model -> test
// metrics on floored inputs -> artifact folder with manifest and REPORT.md. Deterministic for a
// given data set and options.
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { floorRows, selectRows, summarizeReport } from "../data/csv.ts";
import { FEATURES, N_FEATURES } from "../data/features.ts";
import { DEFAULT_SPLIT, sampleWeights } from "../data/split.ts";
import { computeMetrics, publicMetrics, type Metrics } from "../metrics.ts";
import { predictFloat } from "../mlp/float.ts";
import { inferInt32 } from "../mlp/int32.ts";
import { allParams, chooseBits, DEFAULT_ALPHA, overflowAnalysis, quantize } from "../mlp/quantize.ts";
import { DEFAULT_MLP } from "../mlp/train.ts";
import { xgbJsonToOnnx } from "../onnx/xgb2onnx.ts";
import { OnnxBackend } from "../onnx/backend.ts";
import { DEFAULT_CART, inferTree, LEAF_SCALE, treeDepth, trainCart } from "../tree/cart.ts";
import { formatCurve, giniImportance, treeOnFeatures, type CurvePoint } from "../tree/importance.ts";
import { DEFAULT_XGB, trainXgb } from "../xgb/xgb.ts";
import { FORMAT, FORMAT_VERSION, manifestFeatures, type DtManifest, type MlpManifest, type TrainingInfo, type XgbManifest } from "../artifact/manifest.ts";
import { writeJson, writeText } from "../artifact/save.ts";
import { BASELINE_FILE, benignBaseline } from "../explain/baseline.ts";
import { fitMlp, type MlpFit, type MlpFitOptions } from "./fit-mlp.ts";
import { labels, prepare } from "./prepare.ts";
import { progressBar } from "./progress.ts";

export type TrainKind = "mlp" | "dt" | "xgb";

export interface TrainOptions extends MlpFitOptions {
  kind: TrainKind;
  data: string;
  out: string;
  /** Use the top-K features of the Gini ranking; default: chosen from the curve. */
  k?: number;
  /** Explicit feature indices (FEATURES.md; the data set must have them); overrides k. */
  features?: number[];
  splitSeed: number;
  /** Extra weight on benign rows on top of balanced class weights. */
  benignBoost: number;
  alpha: number;
  /** MLP K sweep (when neither --k nor --features is given): stop at the first K with validation F1 >= this. */
  mlpMinF1: number;
  maxK: number;
  maxDepth: number;
  rounds: number;
  xgbDepth: number;
  eta: number;
  command: string;
  log: (line: string) => void;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, "kind" | "data" | "out" | "command" | "log"> = {
  splitSeed: DEFAULT_SPLIT.seed, benignBoost: 1, hidden: [32, 32], epochs: DEFAULT_MLP.epochs, batch: DEFAULT_MLP.batch,
  lr: DEFAULT_MLP.lr, l2: DEFAULT_MLP.l2, alpha: DEFAULT_ALPHA, targetFpr: 0.005, xmaxQuantile: 1, scaler: "standard", mlpMinF1: 0.98, maxK: 10, maxDepth: DEFAULT_CART.maxDepth,
  rounds: DEFAULT_XGB.rounds, xgbDepth: DEFAULT_XGB.maxDepth, eta: DEFAULT_XGB.eta, seed: DEFAULT_MLP.seed,
};

export interface TrainResult {
  manifest: MlpManifest | DtManifest | XgbManifest;
  report: string;
}

/** Auto K: the smallest K (<= 10) whose validation MCC is within 0.005 of the best K <= 10. */
export function chooseK(curve: CurvePoint[], maxK = 10, tolerance = 0.005): number {
  const pts = curve.filter((p) => p.k <= maxK);
  const best = Math.max(...pts.map((p) => p.val.mcc));
  return pts.find((p) => p.val.mcc >= best - tolerance)!.k;
}

const fmt = (m: Pick<Metrics, "f1" | "fpr" | "mcc" | "precision" | "recall" | "pr_auc" | "accuracy">) =>
  `F1 ${m.f1.toFixed(4)}  FPR ${(m.fpr * 100).toFixed(2)}%  MCC ${m.mcc.toFixed(4)}  precision ${m.precision.toFixed(4)}  recall ${m.recall.toFixed(4)}  PR-AUC ${m.pr_auc.toFixed(4)}`;

function metricsTable(rows: [string, Metrics][]): string {
  const out = ["| model | n | accuracy | precision | recall | F1 | FPR | MCC | PR-AUC | TP | FP | TN | FN |", "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"];
  for (const [name, m] of rows) {
    out.push(`| ${name} | ${m.n} | ${m.accuracy.toFixed(4)} | ${m.precision.toFixed(4)} | ${m.recall.toFixed(4)} | ${m.f1.toFixed(4)} | ${(m.fpr * 100).toFixed(2)}% | ${m.mcc.toFixed(4)} | ${m.pr_auc.toFixed(4)} | ${m.tp} | ${m.fp} | ${m.tn} | ${m.fn} |`);
  }
  return out.join("\n");
}

export async function train(opt: TrainOptions): Promise<TrainResult> {
  const log = opt.log;
  log(`loading ${opt.data}`);
  const P = prepare(opt.data, { ...DEFAULT_SPLIT, seed: opt.splitSeed }, opt.benignBoost);
  log(summarizeReport(P.data.report));
  log(`split (seed ${opt.splitSeed}): train ${P.split.train.length}, val ${P.split.val.length}, test ${P.split.test.length}; class weights benign ${P.weights[0].toFixed(3)}, attack ${P.weights[1].toFixed(3)}`);

  // Feature selection over the features the data set has, judged on validation only.
  const sd = { x: P.data.x, features: P.data.features, y: P.data.y, train: P.split.train, val: P.split.val, weights: P.weights };
  if (opt.features) {
    const absent = opt.features.filter((f) => !P.data.features.includes(f));
    if (absent.length) throw new Error(`--features: ${opt.data} has no ${absent.map((f) => `${FEATURES[f]?.name ?? "?"} [${f}]`).join(", ")}`);
  }
  const imp = giniImportance(sd);
  const bar = progressBar("top-K curve", imp.order.length);
  const curve: CurvePoint[] = [];
  for (let k = 1; k <= imp.order.length; k++) {
    const m = treeOnFeatures(sd, imp.order.slice(0, k)).metrics;
    curve.push({ k, features: imp.order.slice(0, k), val: { f1: m.f1, fpr: m.fpr, mcc: m.mcc, accuracy: m.accuracy } });
    bar.tick(k, `K=${k} val F1 ${curve[k - 1]!.val.f1.toFixed(4)}`);
  }
  bar.end();
  const ytr = labels(P.data.y, P.split.train), yv = labels(P.data.y, P.split.val), yte = labels(P.data.y, P.split.test);
  const wtr = sampleWeights(ytr, P.weights);
  // Train on the CSV values; judge on floored values, which is what the kernel delivers.
  const mats = (features: number[]) => ({
    xtr: selectRows(P.data.x, N_FEATURES, P.split.train, features),
    xv: floorRows(selectRows(P.data.x, N_FEATURES, P.split.val, features)),
    xte: floorRows(selectRows(P.data.x, N_FEATURES, P.split.test, features)),
    xteRaw: selectRows(P.data.x, N_FEATURES, P.split.test, features),
  });

  let features = opt.features ?? imp.order.slice(0, opt.k ?? chooseK(curve));
  let fitted: MlpFit | undefined;
  const sweep: string[] = [];
  if (opt.kind === "mlp" && !opt.features && opt.k === undefined) {
    // The MLP needs its own K: start where the tree curve flattens, stop at the first K whose
    // calibrated validation F1 clears the target with margin (or at maxK, keeping the best).
    sweep.push("| K | val F1 | val FPR | val MCC | benign bias shift |", "|--:|--:|--:|--:|--:|");
    const start = features.length;
    for (let k = start; k <= opt.maxK; k++) {
      const f = imp.order.slice(0, k);
      const m = mats(f);
      opt.log(`MLP sweep: K = ${k}`);
      const fit = fitMlp(opt, f, m.xtr, ytr, wtr, m.xv, yv);
      sweep.push(`| ${k} | ${fit.val.f1.toFixed(4)} | ${(fit.val.fpr * 100).toFixed(2)}% | ${fit.val.mcc.toFixed(4)} | ${fit.shift.toFixed(4)} |`);
      opt.log(`MLP sweep: K = ${k}: val F1 ${fit.val.f1.toFixed(4)} FPR ${(fit.val.fpr * 100).toFixed(2)}%`);
      if (!fitted || fit.val.f1 > fitted.val.f1) { fitted = fit; features = f; }
      if (fit.val.f1 >= opt.mlpMinF1) { fitted = fit; features = f; break; }
    }
  }
  log(`features (${features.length}): ${features.map((f) => `${FEATURES[f]!.name} [${f}]`).join(", ")}`);
  const K = features.length;
  const { xtr, xv, xte, xteRaw } = mats(features);

  const training: TrainingInfo = {
    data: opt.data.split("/").filter(Boolean).pop() ?? opt.data,
    data_digest: P.digest,
    rows: P.data.n,
    split: { seed: opt.splitSeed, train: DEFAULT_SPLIT.train, val: DEFAULT_SPLIT.val, test: 1 - DEFAULT_SPLIT.train - DEFAULT_SPLIT.val, rows: { train: P.split.train.length, val: P.split.val.length, test: P.split.test.length } },
    class_weights: P.weights,
    command: opt.command,
    load_report: P.data.report,
    options: {},
  };
  const base: Base = { format: FORMAT, format_version: FORMAT_VERSION, features: manifestFeatures(features), training };
  const header = (title: string) => [
    `# ${title}: ${basename(resolve(opt.out))}, trained on ${opt.data}`, "",
    `Reproduce: \`${opt.command}\``, "",
    `Data: ${training.data} (${P.digest}), ${P.data.n} rows; stratified split seed ${opt.splitSeed}: train ${P.split.train.length} / val ${P.split.val.length} / test ${P.split.test.length}.`,
    `Metrics are on the test split, which training${opt.kind === "mlp" && opt.targetFpr > 0 ? ", feature selection and the FPR calibration" : " and feature selection"} never saw, with inputs floored to integers as the kernel derives them.${opt.kind === "mlp" && opt.targetFpr <= 0 ? " No calibration (--target-fpr 0): the operating point is the plain argmax." : ""}`, "",
    "## Data repairs", "", "```", summarizeReport(P.data.report), "```", "",
    "## Feature ranking (Gini gain of a depth-" + DEFAULT_CART.maxDepth + " CART over the 22 receive-side features) and top-K curve (CART on the top K, validation split)", "",
    formatCurve(imp, curve), "",
    ...(sweep.length ? [
      `### MLP sweep over K (layers ${opt.hidden.join(", ")}, ${opt.targetFpr > 0 ? `calibrated to validation FPR <= ${opt.targetFpr}` : "uncalibrated"}; first K with validation F1 >= ${opt.mlpMinF1} wins)`, "", ...sweep, "",
    ] : []),
    `Chosen: K = ${K}: ${features.map((f) => `${FEATURES[f]!.name} [${f}]`).join(", ")}.`, "",
  ];

  switch (opt.kind) {
    case "mlp":
      writeJson(opt.out, BASELINE_FILE, benignBaseline(P.data, opt.data, P.digest)); // what `xids explain` measures against
      return trainMlpArtifact(opt, fitted ?? fitMlp(opt, features, xtr, ytr, wtr, xv, yv), features, { xtr, ytr, wtr, xv, yv, xte, yte, xteRaw }, base, header);
    case "dt": return trainDtArtifact(opt, features, { xtr, ytr, wtr, xte, yte, xteRaw }, base, header);
    case "xgb": return trainXgbArtifact(opt, features, { xtr, ytr, wtr, xte, yte, xteRaw }, base, header);
  }
}

interface Splits {
  xtr: Float64Array; ytr: Uint8Array; wtr: Float64Array; xv?: Float64Array; yv?: Uint8Array; xte: Float64Array; yte: Uint8Array;
  /** Test inputs as the CSV has them (not floored): shows flooring costs nothing. */
  xteRaw: Float64Array;
}
type Base = Pick<MlpManifest, "format" | "format_version" | "features" | "training">;

function finish(opt: TrainOptions, manifest: MlpManifest | DtManifest | XgbManifest, report: string[]): TrainResult {
  writeJson(opt.out, "manifest.json", manifest);
  const text = report.join("\n") + "\n";
  writeText(opt.out, "REPORT.md", text);
  return { manifest, report: text };
}

async function trainMlpArtifact(opt: TrainOptions, fit: MlpFit, features: number[], d: Splits, base: Base, header: (t: string) => string[]): Promise<TrainResult> {
  const K = features.length;
  const { fm, shift, xmax } = fit;
  const layers = [K, ...opt.hidden, 2];
  opt.log(`declared ranges (xmax): ${Array.from(xmax).join(", ")}`);
  opt.log(`operating point: benign logit bias +${shift.toFixed(4)} (validation FPR target ${opt.targetFpr}): val F1 ${fit.val.f1.toFixed(4)} FPR ${(fit.val.fpr * 100).toFixed(2)}%`);
  const bits = chooseBits(allParams(fm), opt.alpha);
  opt.log(`quantisation: b = ${bits.b} (s = ${2 ** bits.b}), Pr(|p| <= 1/s) = ${bits.fraction.toFixed(5)} ${bits.met ? "<=" : ">"} alpha ${opt.alpha}`);
  const q = quantize(fm, features, bits.b);
  const ov = overflowAnalysis(q);
  if (!ov.ok) throw new Error(`overflow analysis failed: ${ov.problems.join("; ")}`);
  opt.log(`overflow analysis: max |acc| per layer ${ov.maxAcc.join(", ")}; headroom ${ov.headroomBits.toFixed(1)} bits below 2^63`);

  const n = d.yte.length;
  const pi = new Uint8Array(n), si = new Float64Array(n), pf = new Uint8Array(n), sf = new Float64Array(n);
  let disagree = 0;
  for (let i = 0; i < n; i++) {
    const r = inferInt32(q, Array.from(d.xte.subarray(i * K, (i + 1) * K)));
    const f = predictFloat(fm, d.xte, i * K);
    pi[i] = r.attack ? 1 : 0; si[i] = r.score;
    pf[i] = f.attack ? 1 : 0; sf[i] = f.score;
    if (pi[i] !== pf[i]) disagree++;
  }
  const mi = computeMetrics(d.yte, pi, si), mf = computeMetrics(d.yte, pf, sf);
  const pr = Uint8Array.from({ length: n }, (_, i) => (predictFloat(fm, d.xteRaw, i * K).attack ? 1 : 0));
  const mr = computeMetrics(d.yte, pr);
  opt.log(`test int32: ${fmt(mi)}`);
  opt.log(`test float: ${fmt(mf)}; float vs int32 disagreements ${disagree}, F1 gap ${Math.abs(mf.f1 - mi.f1).toFixed(5)}`);
  const manifest: MlpManifest = {
    ...base, kind: "mlp-int32",
    features: base.features.map((f, j) => ({ ...f, xmax: xmax[j]! })),
    training: { ...base.training, options: { layers, epochs: opt.epochs, batch: opt.batch, lr: opt.lr, l2: opt.l2, seed: opt.seed, benign_boost: opt.benignBoost, target_fpr: opt.targetFpr, xmax_quantile: opt.xmaxQuantile, scaler: opt.scaler, log2_features: opt.log2Features ?? [], benign_bias_shift: shift, optimizer: "adam", activation: "relu", epoch_selection: "best validation MCC" } },
    scaler: { mean: Array.from(fm.mean), std: Array.from(fm.std), mean_q: q.mean_q, std_q: q.std_q, ...(fm.log2 ? { log2: fm.log2 } : {}) },
    quantization: { s: 2 ** bits.b, b: bits.b, alpha: opt.alpha, fraction: bits.fraction, ecdf_met: bits.met, overflow: ov },
    layers: fm.layers.map((L, l) => ({ in: L.in, out: L.out, activation: l < fm.layers.length - 1 ? "relu" : "none" })),
    metrics: { test: publicMetrics(mi), test_confusion: { tp: mi.tp, fp: mi.fp, tn: mi.tn, fn: mi.fn }, test_float: publicMetrics(mf), float_vs_int32_disagreements: disagree, f1_gap: Math.abs(mf.f1 - mi.f1), test_float_csv_values: publicMetrics(mr) },
    files: { params: "params.json", float: "float.json" },
  };
  writeJson(opt.out, "params.json", { b: q.b, layers: q.layers.map((L) => ({ in: L.in, out: L.out, w_q: L.w_q, bias_q: L.bias_q })) });
  writeJson(opt.out, "float.json", { layers: fm.layers.map((L) => ({ in: L.in, out: L.out, w: L.w, bias: L.bias })) });
  return finish(opt, manifest, [
    ...header("int32 MLP (mlp-int32)"),
    `## Model`, "",
    `Layers ${layers.join(" -> ")} (ReLU), Adam lr ${opt.lr}, batch ${opt.batch}, ${opt.epochs} epochs (best validation MCC kept), seed ${opt.seed}, standardisation fitted on the training split${fm.log2 ? `; on a log scale (log2q8, INT32_SPEC.md step 1b): ${features.filter((_, j) => fm.log2![j]).map((f) => FEATURES[f]!.name).join(", ")}` : ""}.`,
    `Operating point: benign logit bias raised by ${shift.toFixed(4)} so that validation FPR <= ${opt.targetFpr} (argmax, ties to benign, is unchanged).`, "",
    `## Quantisation`, "",
    `b = ${bits.b}, s = ${2 ** bits.b} (ECDF rule, alpha = ${opt.alpha}: Pr(|p| <= 1/s) = ${bits.fraction.toFixed(5)} over ${allParams(fm).length} parameters).`, "",
    "| b | Pr(abs(p) <= 2^-b) |", "|--:|--:|", ...bits.ecdf.map((e) => `| ${e.b} | ${e.fraction.toFixed(5)} |`), "",
    `Overflow analysis over the declared ranges (xmax ${Array.from(xmax).join(", ")}): max (|num| << b) = ${ov.maxShiftedNum} (< 2^64); max |acc| per layer = ${ov.maxAcc.join(", ")} (< 2^63, headroom ${ov.headroomBits.toFixed(1)} bits). Result: ${ov.ok ? "proved" : "FAILED"}.`, "",
    `## Test metrics`, "",
    metricsTable([["int32 (floored inputs)", mi], ["float (floored inputs)", mf], ["float (CSV values, not floored)", mr]]), "",
    `Float vs int32: ${disagree} disagreements of ${n}; F1 gap ${Math.abs(mf.f1 - mi.f1).toFixed(5)}.`,
  ]);
}

async function trainDtArtifact(opt: TrainOptions, features: number[], d: Splits, base: Base, header: (t: string) => string[]): Promise<TrainResult> {
  const K = features.length;
  const t = trainCart(d.xtr, K, d.ytr, d.wtr, { ...DEFAULT_CART, maxDepth: opt.maxDepth });
  const n = d.yte.length;
  const p = new Uint8Array(n), s = new Float64Array(n);
  for (let i = 0; i < n; i++) { const r = inferTree(t.tree, d.xte, i * K); p[i] = r.attack ? 1 : 0; s[i] = r.value; }
  const m = computeMetrics(d.yte, p, s);
  const pr = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    while (t.tree.feature[a]! >= 0) a = d.xteRaw[i * K + t.tree.feature[a]!]! <= t.floatThreshold[a]! ? t.tree.left[a]! : t.tree.right[a]!;
    pr[i] = t.tree.cls[a]!;
  }
  const mr = computeMetrics(d.yte, pr);
  const depth = treeDepth(t.tree);
  opt.log(`tree: ${t.tree.feature.length} nodes, depth ${depth}`);
  opt.log(`test: ${fmt(m)}`);
  const manifest: DtManifest = {
    ...base, kind: "dt",
    training: { ...base.training, options: { max_depth: opt.maxDepth, criterion: "gini", benign_boost: opt.benignBoost } },
    tree: { nodes: t.tree.feature.length, depth, leaf_scale: LEAF_SCALE, max_depth: opt.maxDepth },
    metrics: { test: publicMetrics(m), test_confusion: { tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn }, test_float_splits_csv_values: publicMetrics(mr) },
    files: { tree: "tree.json" },
  };
  writeJson(opt.out, "tree.json", { ...t.tree, float_threshold: t.floatThreshold });
  return finish(opt, manifest, [
    ...header("Decision tree (dt)"),
    `## Model`, "",
    `CART, Gini, max depth ${opt.maxDepth}, class-weighted; ${t.tree.feature.length} nodes, depth ${depth}. Flat arrays in tree.json: node i goes left iff x[feature] <= threshold (integers; threshold = floor of the float split, equivalent on integer inputs); leaves carry P(attack) x ${LEAF_SCALE} and the class (ties benign). \`feature\` indexes the manifest's feature list.`, "",
    `## Test metrics`, "", metricsTable([["dt (integer thresholds, floored inputs)", m], ["dt (float splits, CSV values)", mr]]),
  ]);
}

async function trainXgbArtifact(opt: TrainOptions, features: number[], d: Splits, base: Base, header: (t: string) => string[]): Promise<TrainResult> {
  const K = features.length;
  opt.log(`training XGBoost (${opt.rounds} rounds, depth ${opt.xgbDepth}, eta ${opt.eta}) via python3-xgboost`);
  const r = trainXgb(d.xtr, d.ytr, d.wtr, d.xte, K, { rounds: opt.rounds, maxDepth: opt.xgbDepth, eta: opt.eta, seed: opt.seed });
  const conv = xgbJsonToOnnx(r.model, K, `xids XGBoost ${r.version}; inputs: ${features.map((f) => FEATURES[f]!.name).join(", ")}`);
  writeText(opt.out, "model.onnx", conv.onnx);
  writeText(opt.out, "xgboost.json", r.modelJson);
  writeJson(opt.out, "test_predictions.json", { note: "XGBoost's own P(attack) on the floored test split, in test-split row order", prob: r.testProb.map((v) => Number(v.toPrecision(9))) });
  const n = d.yte.length;
  using be = await OnnxBackend.load(join(opt.out, "model.onnx"), K);
  const o = await be.score(d.xte, n);
  let disagree = 0, maxDiff = 0;
  for (let i = 0; i < n; i++) {
    if ((r.testProb[i]! > 0.5 ? 1 : 0) !== o.label[i]) disagree++;
    maxDiff = Math.max(maxDiff, Math.abs(r.testProb[i]! - o.prob[i]!));
  }
  const m = computeMetrics(d.yte, o.label, o.prob);
  const oRaw = await be.score(d.xteRaw, n);
  const mr = computeMetrics(d.yte, oRaw.label, oRaw.prob);
  opt.log(`ONNX: ${conv.nTrees} trees, ${conv.nNodes} nodes; ONNX Runtime vs XGBoost: ${disagree} label disagreements, max |dp| ${maxDiff.toExponential(2)}`);
  opt.log(`test: ${fmt(m)}`);
  const manifest: XgbManifest = {
    ...base, kind: "xgb",
    training: { ...base.training, options: { rounds: opt.rounds, max_depth: opt.xgbDepth, eta: opt.eta, seed: opt.seed, benign_boost: opt.benignBoost, objective: "binary:logistic", tree_method: "hist" } },
    xgboost: { version: r.version, rounds: opt.rounds, max_depth: opt.xgbDepth, eta: opt.eta, trees: conv.nTrees, nodes: conv.nNodes },
    metrics: { test: publicMetrics(m), test_confusion: { tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn }, onnx_vs_xgboost_disagreements: disagree, onnx_vs_xgboost_max_abs_prob_diff: maxDiff, test_csv_values: publicMetrics(mr) },
    files: { onnx: "model.onnx", xgboost: "xgboost.json", test_predictions: "test_predictions.json" },
  };
  return finish(opt, manifest, [
    ...header("XGBoost (xgb, served as ONNX)"),
    `## Model`, "",
    `XGBoost ${r.version} (Debian python3-xgboost), binary:logistic, ${opt.rounds} rounds, max depth ${opt.xgbDepth}, eta ${opt.eta}, hist, class-weighted. Converted by models/onnx/xgb2onnx.ts to an ai.onnx.ml TreeEnsembleClassifier (opset 3, IR 8): ${conv.nTrees} trees, ${conv.nNodes} nodes. Input \`input\` float32 [N, ${K}]; outputs \`label\` int64 [N], \`probabilities\` float32 [N, 2].`, "",
    `ONNX Runtime (onnxruntime-node) vs XGBoost on the ${n} test rows: ${disagree} label disagreements, max |P difference| ${maxDiff.toExponential(2)}.`, "",
    `## Test metrics`, "", metricsTable([["xgb (ONNX Runtime, floored inputs)", m], ["xgb (ONNX Runtime, CSV values)", mr]]),
  ]);
}

export function readManifestJson(dir: string): unknown {
  return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
}
