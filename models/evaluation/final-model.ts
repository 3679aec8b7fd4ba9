// The shipped model of the scenario matrix: trained on every recording with the recipe the
// leave-one-out evaluation judged, written as an artifact the kernel loads, its REPORT carrying
// the leave-one-out figures beside the in-distribution ones.
import { FEATURES } from "../data/features.ts";
import { summarizeReport } from "../data/csv.ts";
import { FORMAT, FORMAT_VERSION, manifestFeatures, type DtManifest, type MlpManifest, type TrainingInfo } from "../artifact/manifest.ts";
import { writeJson, writeText } from "../artifact/save.ts";
import { BASELINE_FILE, benignBaseline } from "../explain/baseline.ts";
import { computeMetrics, publicMetrics, type Metrics } from "../metrics.ts";
import { LEAF_SCALE, treeDepth } from "../tree/cart.ts";
import { dataDigest } from "../pipeline/prepare.ts";
import { fitAll, type LooOptions } from "./loo.ts";
import type { LooSummary, ScenarioRow } from "./loo-report.ts";
import type { Recordings } from "./recordings.ts";

export interface FinalModelInfo {
  data: string;
  command: string;
  /** The leave-one-out tables (formatLoo) and their summary. */
  looText: string;
  loo: LooSummary;
}

/** A model judged otherwise than by leave-one-out (the shape sweep: on a held-out run). */
export interface JudgedModelInfo {
  data: string;
  command: string;
  /** What judged it, its metrics, and the REPORT section that says so (markdown lines). */
  test: Metrics;
  testIs: string;
  reportText: string;
}

/** Flow-level metrics of the in-distribution folds, from their per-source counts. */
function inDistributionMetrics(rows: readonly ScenarioRow[]): Metrics {
  const y: number[] = [], pred: number[] = [];
  for (const r of rows) {
    const attack = r.label.toUpperCase() !== "BENIGN" ? 1 : 0;
    for (let i = 0; i < r.flows; i++) { y.push(attack); pred.push(i < r.flagged ? 1 : 0); }
  }
  return computeMetrics(y, pred);
}

export function trainFinalModel(rec: Recordings, opt: LooOptions, out: string, info: FinalModelInfo | JudgedModelInfo, fitted?: ReturnType<typeof fitAll>): MlpManifest | DtManifest {
  const t0 = performance.now();
  const { model, train, val } = fitted ?? fitAll(rec, opt);
  if (!fitted) opt.log(`final model: ${model.summary} (${train} training rows, ${val} validation, ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const features = opt.model.features;
  const loo = "loo" in info ? info : null;
  const inDist = loo ? inDistributionMetrics(loo.loo.inDistribution) : (info as JudgedModelInfo).test;
  const training: TrainingInfo = {
    data: info.data, data_digest: dataDigest(info.data), rows: rec.data.n,
    split: { seed: opt.seed, train: train / (train + val), val: val / (train + val), test: 0, rows: { train, val, test: 0 } },
    class_weights: [opt.benignBoost, 1], command: info.command, load_report: rec.data.report,
    options: {
      kind: opt.model.kind, features, max_train_per_source: opt.maxTrainPerSource, max_train_per_benign_source: opt.maxTrainPerBenignSource, scenario_weight_power: opt.scenarioWeightPower,
      benign_boost: opt.benignBoost, val_runs: opt.valRuns, augment: opt.augment, policy: opt.policy, ...(opt.model.kind === "mlp" ? { mlp: opt.model.mlp } : { max_depth: opt.model.maxDepth }),
    },
  };
  const metrics = {
    // No split is left for a test: these are the in-distribution folds (trained on other runs),
    // or for a judged model the run it was judged on.
    test: publicMetrics(inDist), test_confusion: { tp: inDist.tp, fp: inDist.fp, tn: inDist.tn, fn: inDist.fn },
    test_is: loo ? "in-distribution leave-runs-out folds (models trained on the other runs, every tool seen)" : (info as JudgedModelInfo).testIs,
    ...(loo ? { leave_one_out: loo.loo.headline, leave_one_out_checks: loo.loo.checks } : {}),
  };
  const head = [
    `# ${opt.model.kind === "mlp" ? "int32 MLP (mlp-int32)" : "Decision tree (dt)"}: trained on the scenario matrix (${info.data})`, "",
    `Reproduce: \`${info.command}\``, "",
    `Data: ${rec.data.n} flows from ${rec.bySource.size} sources in ${new Set(rec.rows.map((r) => r.run)).size} runs (${dataDigest(info.data)}).`,
    `Training: at most ${opt.maxTrainPerSource} flows per attack source and ${opt.maxTrainPerBenignSource} per benign one (seeded sample), ${opt.valRuns ? `every flow of ${opt.valRuns} whole run(s) for validation` : `${Math.round(opt.valShare * 100)} % of them for validation`}; a scenario's flow weighs n^-${opt.scenarioWeightPower}, benign and attack equal in total x ${opt.benignBoost}; ` +
      (opt.augment.copies ? `${opt.augment.copies} jittered copies of every training flow (sizes x e^N(0, ${opt.augment.sizeSigma}), gaps x e^N(0, ${opt.augment.timeSigma}), source counts x e^N(0, ${opt.augment.countSigma})).` : "no augmentation."),
    `Block policy judged: ${opt.policy.minAttacks} attack verdicts making up >= ${opt.policy.minAttackPct} % of a source's verdicts within ${opt.policy.windowUs / 1e6} s (the default configuration's).`, "",
    "## Data", "", "```", summarizeReport(rec.data.report), "```", "",
    `Features (${features.length}): ${features.map((f) => `${FEATURES[f]!.name} [${f}]`).join(", ")}.`, "",
  ];
  const looPart = loo ? ["## Leave-one-out and in-distribution figures (`xids loo`)", "", loo.looText, ""] : [(info as JudgedModelInfo).reportText, ""];
  if (model.parts.kind === "dt") {
    const t = model.parts.tree;
    const manifest: DtManifest = {
      format: FORMAT, format_version: FORMAT_VERSION, kind: "dt", features: manifestFeatures(features), training, metrics,
      tree: { nodes: t.tree.feature.length, depth: treeDepth(t.tree), leaf_scale: LEAF_SCALE, max_depth: opt.model.maxDepth },
      files: { tree: "tree.json" },
    };
    writeJson(out, "tree.json", { ...t.tree, float_threshold: t.floatThreshold });
    writeJson(out, "manifest.json", manifest);
    writeText(out, "REPORT.md", [...head, "## Model", "", `CART, max depth ${opt.model.maxDepth}: ${t.tree.feature.length} nodes, depth ${treeDepth(t.tree)}.`, "", ...looPart].join("\n") + "\n");
    return manifest;
  }
  const { fit, q, bits, overflow } = model.parts;
  const fm = fit.fm;
  const layers = [features.length, ...opt.model.mlp.hidden, 2];
  const manifest: MlpManifest = {
    format: FORMAT, format_version: FORMAT_VERSION, kind: "mlp-int32",
    features: manifestFeatures(features).map((f, j) => ({ ...f, xmax: fm.xmax[j]! })),
    training: { ...training, options: { ...training.options, benign_bias_shift: fit.shift } },
    scaler: { mean: Array.from(fm.mean), std: Array.from(fm.std), mean_q: q.mean_q, std_q: q.std_q, ...(fm.log2 ? { log2: fm.log2 } : {}) },
    quantization: { s: 2 ** bits.b, b: bits.b, alpha: opt.model.alpha, fraction: bits.fraction, ecdf_met: bits.met, overflow },
    layers: fm.layers.map((L, l) => ({ in: L.in, out: L.out, activation: l < fm.layers.length - 1 ? "relu" : "none" })),
    metrics,
    files: { params: "params.json", float: "float.json" },
  };
  writeJson(out, "params.json", { b: q.b, layers: q.layers.map((L) => ({ in: L.in, out: L.out, w_q: L.w_q, bias_q: L.bias_q })) });
  writeJson(out, "float.json", { layers: fm.layers.map((L) => ({ in: L.in, out: L.out, w: L.w, bias: L.bias })) });
  writeJson(out, "manifest.json", manifest);
  writeJson(out, BASELINE_FILE, benignBaseline(rec.data, info.data, dataDigest(info.data))); // what `xids explain` measures against
  const logScale = fm.log2 ? features.filter((_, j) => fm.log2![j]).map((f) => FEATURES[f]!.name) : [];
  writeText(out, "REPORT.md", [
    ...head,
    "## Model", "",
    `Layers ${layers.join(" -> ")} (ReLU), Adam lr ${opt.model.mlp.lr}, batch ${opt.model.mlp.batch}, ${opt.model.mlp.epochs} epochs (best validation MCC kept), seed ${opt.model.mlp.seed}; ${opt.model.mlp.scaler} scaler fitted on the training rows` +
      (logScale.length ? `; on a log scale (log2q8, INT32_SPEC.md step 1b): ${logScale.join(", ")}.` : "."),
    `Operating point: benign logit bias raised by ${fit.shift.toFixed(4)} so that validation FPR <= ${opt.model.mlp.targetFpr}; validation F1 ${fit.val.f1.toFixed(4)}, FPR ${(fit.val.fpr * 100).toFixed(3)} %.`,
    `Quantisation: b = ${bits.b} (s = ${2 ** bits.b}); overflow analysis over the declared ranges: max |acc| per layer ${overflow.maxAcc.join(", ")} (headroom ${overflow.headroomBits.toFixed(1)} bits below 2^63): ${overflow.ok ? "proved" : "FAILED"}.`, "",
    ...looPart,
  ].join("\n") + "\n");
  return manifest;
}
