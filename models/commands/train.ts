// `xids train`: train an MLP (int32), decision tree or XGBoost model and write its artifact.
import { parseFlags, UsageError } from "../../core/cli/args.ts";
import type { Command } from "../../core/cli/command.ts";
import { LOG_SCALE_FEATURES } from "../data/features.ts";
import { DEFAULT_TRAIN, train, type TrainKind } from "../pipeline/train.ts";

const spec = {
  model: "string", data: "string", out: "string", k: "number", features: "string", "split-seed": "number",
  "benign-boost": "number", hidden: "string", epochs: "number", batch: "number", lr: "number", l2: "number",
  alpha: "number", "target-fpr": "number", "max-depth": "number", rounds: "number", "xgb-depth": "number",
  eta: "number", seed: "number", "xmax-quantile": "number", scaler: "string", "max-k": "number", "mlp-min-f1": "number", log2: "string",
} as const;

const KINDS: Record<string, TrainKind> = { mlp: "mlp", dt: "dt", xgb: "xgb" };

export const command: Command = {
  name: "train",
  summary: "train a model (mlp | dt | xgb) on CIC-IDS-2017-style CSVs and write its artifact",
  help: `usage: xids train --model mlp|dt|xgb --data <csv or folder> --out <dir> [options]

Loads the CSVs, makes a seeded stratified 60/20/20 split, ranks the 22 kernel features by Gini
gain, trains, evaluates on the test split (floored integer inputs) and writes manifest.json,
parameters and REPORT.md to --out.

options:
  --k N                 use the top-N features of the Gini ranking (default: dt/xgb: smallest K on the
                        tree curve within 0.005 MCC of the best K <= 10; mlp: sweep K from there up to
                        --max-k ${DEFAULT_TRAIN.maxK}, first K with calibrated validation F1 >= --mlp-min-f1 ${DEFAULT_TRAIN.mlpMinF1})
  --features i,j,...    explicit kernel feature indices (overrides --k)
  --split-seed N        split seed (default ${DEFAULT_TRAIN.splitSeed})
  --benign-boost X      extra weight on benign rows (default ${DEFAULT_TRAIN.benignBoost})
  --seed N              model seed (default ${DEFAULT_TRAIN.seed})
  mlp: --hidden 32,32 --epochs ${DEFAULT_TRAIN.epochs} --batch ${DEFAULT_TRAIN.batch} --lr ${DEFAULT_TRAIN.lr} --l2 ${DEFAULT_TRAIN.l2}
       --xmax-quantile ${DEFAULT_TRAIN.xmaxQuantile} (clamp ceiling from this training quantile; 1 = type limits)
       --scaler standard|robust (centre/scale the kernel applies; default ${DEFAULT_TRAIN.scaler})
       --log2 i,j,...|counts (these features on a log scale, log2q8 in the kernel; counts: every
       feature but Dst Port and Protocol; default none)
       --alpha ${DEFAULT_TRAIN.alpha} (ECDF rule) --target-fpr ${DEFAULT_TRAIN.targetFpr} (validation FPR operating point; 0 = plain argmax)
  dt:  --max-depth ${DEFAULT_TRAIN.maxDepth}
  xgb: --rounds ${DEFAULT_TRAIN.rounds} --xgb-depth ${DEFAULT_TRAIN.xgbDepth} --eta ${DEFAULT_TRAIN.eta}

example:
  bun run xids train --model mlp --data ../shared/datasets/cic-ids-2017-improved --out models/artifacts/mlp-int32`,
  async run(args) {
    const f = parseFlags(args, spec);
    const kind = KINDS[f.model ?? ""];
    if (!kind) throw new UsageError("--model must be mlp, dt or xgb");
    if (!f.data) throw new UsageError("--data is required");
    if (!f.out) throw new UsageError("--out is required");
    const ints = (s: string, what: string) => s.split(",").map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new UsageError(`${what}: '${v}' is not an integer`);
      return n;
    });
    const t0 = performance.now();
    const res = await train({
      ...DEFAULT_TRAIN,
      kind, data: f.data, out: f.out,
      k: f.k, features: f.features ? ints(f.features, "--features") : undefined,
      splitSeed: f["split-seed"] ?? DEFAULT_TRAIN.splitSeed,
      benignBoost: f["benign-boost"] ?? DEFAULT_TRAIN.benignBoost,
      hidden: f.hidden ? ints(f.hidden, "--hidden") : DEFAULT_TRAIN.hidden,
      epochs: f.epochs ?? DEFAULT_TRAIN.epochs, batch: f.batch ?? DEFAULT_TRAIN.batch, lr: f.lr ?? DEFAULT_TRAIN.lr,
      l2: f.l2 ?? DEFAULT_TRAIN.l2, alpha: f.alpha ?? DEFAULT_TRAIN.alpha, targetFpr: f["target-fpr"] ?? DEFAULT_TRAIN.targetFpr,
      log2Features: f.log2 === undefined ? undefined : f.log2 === "counts" ? LOG_SCALE_FEATURES : ints(f.log2, "--log2"),
      maxK: f["max-k"] ?? DEFAULT_TRAIN.maxK, mlpMinF1: f["mlp-min-f1"] ?? DEFAULT_TRAIN.mlpMinF1,
      xmaxQuantile: f["xmax-quantile"] ?? DEFAULT_TRAIN.xmaxQuantile,
      scaler: f.scaler === undefined ? DEFAULT_TRAIN.scaler : f.scaler === "robust" || f.scaler === "standard" ? f.scaler : (() => { throw new UsageError("--scaler must be standard or robust"); })(),
      maxDepth: f["max-depth"] ?? DEFAULT_TRAIN.maxDepth, rounds: f.rounds ?? DEFAULT_TRAIN.rounds,
      xgbDepth: f["xgb-depth"] ?? DEFAULT_TRAIN.xgbDepth, eta: f.eta ?? DEFAULT_TRAIN.eta, seed: f.seed ?? DEFAULT_TRAIN.seed,
      command: `bun run xids train ${args.join(" ")}`,
      log: (l) => console.log(l),
    });
    const m = res.manifest.metrics.test;
    console.log(`\nwrote ${f.out} (${res.manifest.kind}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`final report: test n ${m.n}  F1 ${m.f1.toFixed(4)}  FPR ${(m.fpr * 100).toFixed(2)}%  MCC ${m.mcc.toFixed(4)}  PR-AUC ${m.pr_auc.toFixed(4)}  (details in ${f.out}/REPORT.md)`);
    return 0;
  },
};
