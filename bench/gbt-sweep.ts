// F1 vs kernel ns for boosted ensembles (the tree-count x depth sweep of models/gbt/train_gbt.py)
// beside the MLP and the single tree: each model in its own data plane, the classifier alone
// (xids_classify_eval) on the same real flows of the seed-26 holdout, minus the empty slot, as
// bench/kernel.ts's eval_* cases. F1 is the holdout F1 computed here by the reference (= kernel).
// usage: bun bench/gbt-sweep.ts [--rows 64] [--repeat 20000] [--samples 5] <artifact dir>...
import { parseArgs } from "node:util";
import { DataPlane } from "../core/ebpf/dataplane.ts";
import { EvalIo, NUM_FEATURES } from "../plugins/models/kernel/abi.ts";
import { kernelModelOf } from "../plugins/models/kernel/probes.ts";
import { ModelSlots } from "../plugins/models/kernel/model-slots.ts";
import { loadArtifact, loadCsv, predictUserSpace, computeMetrics, rowsOf } from "../models/index.ts";
import { median } from "./stats.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2), allowPositionals: true,
  options: { rows: { type: "string", default: "64" }, repeat: { type: "string", default: "20000" }, samples: { type: "string", default: "5" }, holdout: { type: "string", default: "models/datasets/matrix-holdout" } },
});
const nRows = Number(values.rows), repeat = Number(values.repeat), samples = Number(values.samples);
const data = rowsOf(loadCsv(values.holdout!));
// Evenly spaced holdout flows (benign and attack alike), as integer kernel feature vectors.
const pick = Array.from({ length: nRows }, (_, i) => Math.floor((i * data.n) / nRows));
const features = pick.map((r) => Array.from({ length: NUM_FEATURES }, (_, f) => BigInt(Math.floor(data.x[r * NUM_FEATURES + f]!))));

const out: Record<string, unknown>[] = [];
for (const dir of positionals) {
  const model = loadArtifact(dir);
  const pred = await predictUserSpace(model, data.x, data.n);
  const m = computeMetrics(data.y, pred.pred, pred.score);
  using dp = DataPlane.load({ modelAction: "alert" });
  const info = new ModelSlots(dp.coll).activateNow(kernelModelOf(model), 1);
  const prog = dp.coll.program("xids_classify_eval");
  const ios = (slot: number) => features.map((f) => EvalIo.encode({ ...EvalIo.zero(), slot, features: f }));
  const per = Math.max(1, Math.floor(repeat / nRows));
  const run = (io: Uint8Array[]) => io.reduce((ns, d) => ns + prog.testRun({ data: d, repeat: per }).durationNs, 0) / io.length;
  const full = ios(info.slot), empty = ios(1 - info.slot);
  const diffs: number[] = [];
  for (let s = 0; s < samples; s++) diffs.push(run(full) - run(empty));
  const g = model.kind === "gbt" ? model.manifest.gbt : undefined;
  const row = {
    model: dir, kind: model.kind, ...(g ? { trees: g.trees, depth: g.max_depth, nodes: g.nodes, slot_bytes: g.bytes } : {}),
    holdout_f1: +m.f1.toFixed(4), recall: +m.recall.toFixed(4), fpr_pct: +(m.fpr * 100).toFixed(3), ns_per_flow: +median(diffs).toFixed(1),
  };
  console.error(JSON.stringify(row));
  out.push(row);
}
console.log(JSON.stringify(out, null, 1));
