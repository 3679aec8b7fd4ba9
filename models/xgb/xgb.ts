// Real XGBoost from TypeScript: write the split to temp CSVs, run models/xgb/train_xgb.py with
// Debian's python3-xgboost, read back the model JSON and XGBoost's own test predictions.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { XgbJson } from "../onnx/xgb2onnx.ts";

export const PYTHON = process.env.XIDS_PYTHON ?? "/usr/bin/python3";
const SCRIPT = join(import.meta.dir, "train_xgb.py");

export interface XgbOptions {
  rounds: number;
  maxDepth: number;
  eta: number;
  seed: number;
}

export const DEFAULT_XGB: XgbOptions = { rounds: 200, maxDepth: 6, eta: 0.1, seed: 7 };

export interface XgbTrained {
  modelJson: string;
  model: XgbJson;
  /** XGBoost's P(attack) for each test row, as XGBoost itself computes it. */
  testProb: number[];
  version: string;
}

function toCsv(x: Float64Array, k: number, extra?: (r: number) => string): string {
  const n = x.length / k;
  const lines: string[] = [];
  for (let r = 0; r < n; r++) {
    const row: string[] = [];
    for (let c = 0; c < k; c++) row.push(String(x[r * k + c]));
    lines.push(extra ? `${row.join(",")},${extra(r)}` : row.join(","));
  }
  return lines.join("\n") + "\n";
}

export function trainXgb(
  xTrain: Float64Array, yTrain: ArrayLike<number>, wTrain: ArrayLike<number>, xTest: Float64Array, k: number, opt: XgbOptions = DEFAULT_XGB,
): XgbTrained {
  const dir = mkdtempSync(join(tmpdir(), "xids-xgb-"));
  try {
    const job = {
      train_csv: join(dir, "train.csv"), test_csv: join(dir, "test.csv"),
      model_out: join(dir, "model.json"), pred_out: join(dir, "pred.json"),
      rounds: opt.rounds,
      // base_score pinned so the ONNX base value is known; hist + one thread is deterministic.
      params: { objective: "binary:logistic", max_depth: opt.maxDepth, eta: opt.eta, seed: opt.seed, tree_method: "hist", nthread: 1, base_score: 0.5, eval_metric: "logloss" },
    };
    writeFileSync(job.train_csv, toCsv(xTrain, k, (r) => `${yTrain[r]},${wTrain[r]}`));
    writeFileSync(job.test_csv, toCsv(xTest, k));
    writeFileSync(join(dir, "job.json"), JSON.stringify(job));
    const p = Bun.spawnSync([PYTHON, SCRIPT, join(dir, "job.json")], { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`XGBoost training failed (${PYTHON} ${SCRIPT}): ${p.stderr.toString().trim()}`);
    const modelJson = readFileSync(job.model_out, "utf8");
    const pred = JSON.parse(readFileSync(job.pred_out, "utf8")) as { prob: number[]; xgboost_version: string };
    return { modelJson, model: JSON.parse(modelJson) as XgbJson, testProb: pred.prob, version: pred.xgboost_version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** XGBoost's own P(attack) for rows of a saved model (row-major n x k). */
export function predictXgb(modelPath: string, x: Float64Array, k: number): number[] {
  const dir = mkdtempSync(join(tmpdir(), "xids-xgbp-"));
  try {
    writeFileSync(join(dir, "x.csv"), toCsv(x, k));
    const p = Bun.spawnSync([PYTHON, SCRIPT, "predict", modelPath, join(dir, "x.csv"), join(dir, "out.json")], { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`XGBoost predict failed: ${p.stderr.toString().trim()}`);
    return (JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as { prob: number[] }).prob;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
