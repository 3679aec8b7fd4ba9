// `xids eval`: score a model artifact on labelled CSVs; the last line is one JSON object.
import { parseFlags, UsageError } from "../../../core/cli/args.ts";
import type { Command } from "../../../core/cli/command.ts";
import { loadArtifact } from "../../../models/artifact/load.ts";
import { loadCsv, summarizeReport } from "../../../models/data/csv.ts";
import { dataDigest } from "../../../models/pipeline/prepare.ts";
import { checkFeaturesPresent, evaluate, rowsOf, testRows } from "../../../models/pipeline/evaluate.ts";
import { predictUserSpace } from "../../../models/pipeline/predict.ts";
import { predictKernel } from "./predict.ts";



const spec = { model: "string", data: "string", split: "string", kernel: "boolean" } as const;

export const command: Command = {
  name: "eval",
  summary: "evaluate a model artifact on labelled CSVs (prints one JSON line of metrics)",
  help: `usage: xids eval --model <artifact dir> --data <csv or folder> [--split all|test] [--kernel]

Validates the artifact, runs it on every row (inputs floored to integers, as the kernel derives
them) and prints, as the last line, {n, accuracy, precision, recall, f1, fpr, mcc, pr_auc} plus
float_vs_int32_disagreements for the MLP.
  --split test   evaluate only the test split the artifact was judged on (same data set required)
  --kernel       classify every row in the kernel (BPF_PROG_TEST_RUN through the in-kernel
                 MLP or tree) and add kernel_vs_reference_disagreements (exit 1 if any)

example:
  bun run xids eval --model models/artifacts/mlp-int32 --data ../shared/datasets/cic-ids-2017-improved --split test`,
  async run(args) {
    const f = parseFlags(args, spec);
    if (!f.model) throw new UsageError("--model is required");
    if (!f.data) throw new UsageError("--data is required");
    const split = f.split ?? "all";
    if (split !== "all" && split !== "test") throw new UsageError("--split must be all or test");
    const model = loadArtifact(f.model);
    const data = loadCsv(f.data);
    console.error(summarizeReport(data.report));
    let idx: ArrayLike<number> | undefined;
    if (split === "test") {
      const digest = dataDigest(f.data);
      if (digest !== model.manifest.training.data_digest) {
        throw new UsageError(`--split test needs the artifact's training data (${model.manifest.training.data_digest}), got ${digest}`);
      }
      idx = testRows(model, data);
    }
    checkFeaturesPresent(model, data, f.data);
    const rows = rowsOf(data, idx);
    console.error(`model ${model.kind} (${model.features.length} features), ${rows.n} rows (${split})`);
    if (!f.kernel) {
      console.log(JSON.stringify(await evaluate(model, rows.x, rows.y)));
      return 0;
    }
    // Metrics from the kernel's verdicts; then the kernel against the TypeScript oracle, row by row.
    const kernel = await predictKernel(model, rows.x, rows.n);
    const reference = await predictUserSpace(model, rows.x, rows.n);
    const result = await evaluate(model, rows.x, rows.y, async () => ({ ...kernel, ...(reference.floatPred ? { floatPred: reference.floatPred } : {}) }));
    let disagreements = 0;
    for (let i = 0; i < rows.n; i++) if (kernel.pred[i] !== reference.pred[i] || kernel.score[i] !== reference.score[i]) disagreements++;
    console.log(JSON.stringify({ ...result, kernel_vs_reference_disagreements: disagreements }));
    return disagreements === 0 ? 0 : 1;
  },
};
