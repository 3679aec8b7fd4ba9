// The in-kernel MLP's accuracy against its cost (issue 17): for each hidden-layer shape, an int32
// MLP trained on the scenario matrix with the recipe of the shipped models/artifacts/matrix-mlp
// (its features, sampling, weights, operating point; same epochs for every shape), judged on the
// run no model trained on (models/datasets/matrix-holdout, seed 26) through the int32 reference
// the kernel matches bit for bit, and timed in the kernel as `xids bench` times it:
// xids_classify_eval with the model in a slot minus the same program on an empty slot.
import { join } from "node:path";
import { DataPlane } from "../core/ebpf/dataplane.ts";
import { loadArtifact } from "../models/artifact/load.ts";
import { loadCsv } from "../models/data/csv.ts";
import { LOG_SCALE_FEATURES } from "../models/data/features.ts";
import { fitAll, type LooOptions } from "../models/evaluation/loo.ts";
import { trainFinalModel } from "../models/evaluation/final-model.ts";
import { loadRecordings } from "../models/evaluation/recordings.ts";
import { DEFAULT_LOO, DEFAULT_POLICY, MATRIX_DATA } from "../models/commands/loo.ts";
import { computeMetrics } from "../models/metrics.ts";
import { DEFAULT_ALPHA } from "../models/mlp/quantize.ts";
import { predictUserSpace } from "../models/pipeline/predict.ts";
import type { Int32Params } from "../models/mlp/int32.ts";
import { EvalIo } from "../plugins/models/kernel/abi.ts";
import { ModelSlots } from "../plugins/models/kernel/model-slots.ts";
import { kernelModelOf, probeVectors } from "../plugins/models/kernel/probes.ts";
import { slotImage, type KernelModel } from "../plugins/models/kernel/slot-image.ts";
import { median } from "./stats.ts";

const REPO = join(import.meta.dir, "..");
export const HOLDOUT_DATA = "models/datasets/matrix-holdout";
export const SHIPPED_MLP = "models/artifacts/matrix-mlp";
/** The hidden layers the issue asks about: widths 8/16/32, depth 1-2. */
export const SWEEP_SHAPES: number[][] = [[8], [16], [32], [8, 8], [16, 16], [32, 32]];
/** matrix-mlp's features (its REPORT.md command): the flow's and its source's but 25, and the acknowledged bytes. */
export const MATRIX_MLP_FEATURES = [...Array.from({ length: 25 }, (_, i) => i), 26, 27, 28, 29, 30, 31, 35, 36];
/** matrix-mlp's operating point and augmentation (its REPORT.md command). */
const MATRIX_MLP_TARGET_FPR = 0.0002;
const MATRIX_MLP_AUGMENT_COPIES = 1;
/** matrix-mlp's epochs; the sweep may run fewer (the same for every shape). */
export const MATRIX_MLP_EPOCHS = 40;

export interface SweepRow {
  /** Layer widths, inputs first, e.g. [31, 16, 2]. */
  shape: number[];
  /** What the model's own parameters take in a slot (SlotImage.paramBytes). */
  params_bytes: number;
  holdout_f1: number;
  holdout_recall: number;
  holdout_fpr: number;
  holdout_fp: number;
  /** Median over samples of (eval with the model - eval on an empty slot), ns per flow. */
  kernel_ns: number;
  /** The same with the data plane built with -mcpu=v3 (bpf/build/xids-v3.bpf.o), when measured. */
  kernel_v3_ns: number | null;
  /** The validation F1 the training kept (its operating point), and training seconds. */
  val_f1: number;
  train_s: number;
  /** "sweep" (trained here) or "shipped" (models/artifacts/matrix-mlp as it is). */
  source: "sweep" | "shipped";
}

export interface SweepOptions {
  shapes: number[][];
  epochs: number;
  /** BPF_PROG_TEST_RUN repeats per sample and samples per shape. */
  repeat: number;
  samples: number;
  /** Also time the shapes in the -mcpu=v3 object. */
  v3: boolean;
  /** With one shape: also write its artifact here (judged on the holdout, no leave-one-out). */
  artifactOut?: string;
  /** The command line, for the artifact's manifest and REPORT.md. */
  command?: string;
  log: (msg: string) => void;
}

/** matrix-mlp's training recipe (`xids loo --epochs 40 --max-per-benign-source 3000 --features ... --augment 1 --target-fpr 0.0002`). */
export function matrixRecipe(hidden: number[], epochs: number, log: (l: string) => void): LooOptions {
  return {
    model: {
      kind: "mlp", features: MATRIX_MLP_FEATURES, alpha: DEFAULT_ALPHA, maxDepth: DEFAULT_LOO.maxDepth,
      mlp: {
        hidden, epochs, batch: DEFAULT_LOO.batch, lr: DEFAULT_LOO.lr, l2: DEFAULT_LOO.l2, seed: DEFAULT_LOO.seed, scaler: DEFAULT_LOO.scaler,
        xmaxQuantile: DEFAULT_LOO.xmaxQuantile, log2Features: LOG_SCALE_FEATURES, targetFpr: MATRIX_MLP_TARGET_FPR,
      },
    },
    policy: { minAttacks: DEFAULT_POLICY.minAttacks, minAttackPct: DEFAULT_POLICY.minAttackPct, windowUs: DEFAULT_POLICY.windowS * 1_000_000 },
    maxTrainPerSource: DEFAULT_LOO.maxPerSource, maxTrainPerBenignSource: 3000, valShare: DEFAULT_LOO.valShare, valRuns: DEFAULT_LOO.valRuns,
    scenarioWeightPower: DEFAULT_LOO.weightPower, benignBoost: DEFAULT_LOO.benignBoost,
    augment: { copies: MATRIX_MLP_AUGMENT_COPIES, sizeSigma: DEFAULT_LOO.sizeSigma, timeSigma: DEFAULT_LOO.timeSigma, countSigma: DEFAULT_LOO.countSigma, seed: DEFAULT_LOO.seed },
    seed: DEFAULT_LOO.seed, log,
  };
}

/** ns per flow in the kernel for each model, interleaved sample by sample against an empty slot. */
export function kernelNs(models: Int32Params[], opts: { repeat: number; samples: number; object?: string }): number[] {
  const dps: DataPlane[] = [];
  try {
    const load = () => {
      const dp = DataPlane.load({ modelAction: "alert", ...(opts.object ? { object: opts.object } : {}) });
      dps.push(dp);
      return dp;
    };
    const empty = load();
    new ModelSlots(empty.coll);
    const rows = probeVectors(18).slice(2, 10); // the bench's 8 probe vectors
    const evalCase = (dp: DataPlane, slot: number) => {
      const prog = dp.coll.program("xids_classify_eval");
      const ios = rows.map((features) => EvalIo.encode({ ...EvalIo.zero(), slot, features }));
      const per = Math.max(1, Math.floor(opts.repeat / ios.length));
      return () => {
        let ns = 0;
        for (const io of ios) {
          const r = prog.testRun({ data: io, repeat: per });
          if (r.retval !== 2) throw new Error(`mlp sweep: xids_classify_eval slot ${slot}: XDP action ${r.retval}, expected XDP_PASS`);
          ns += r.durationNs;
        }
        return ns / ios.length;
      };
    };
    const cases = [evalCase(empty, 0), ...models.map((p) => {
      const dp = load();
      const s = new ModelSlots(dp.coll).activateNow({ kind: "mlp", params: p }, 1);
      return evalCase(dp, s.slot);
    })];
    const got: number[][] = cases.map(() => []);
    for (let s = 0; s < opts.samples; s++) {
      for (let i = 0; i < cases.length; i++) {
        const c = (i + s) % cases.length; // rotate the order: no case always follows the same one
        got[c]!.push(cases[c]!());
      }
    }
    return models.map((_, m) => Math.max(0, median(got[m + 1]!.map((v, i) => v - got[0]![i]!))));
  } finally {
    for (const dp of dps) dp.close();
  }
}

export async function runSweep(opts: SweepOptions): Promise<{ rows: SweepRow[]; params: Int32Params[] }> {
  const { log } = opts;
  const rec = loadRecordings(join(REPO, MATRIX_DATA));
  const hold = loadCsv(join(REPO, HOLDOUT_DATA));
  log(`${MATRIX_DATA}: ${rec.data.n} flows; holdout ${HOLDOUT_DATA}: ${hold.n} flows (${hold.report.benign} benign)`);
  const all = Int32Array.from({ length: hold.n }, (_, i) => i);
  const judge = (pred: ArrayLike<number>) => computeMetrics(hold.y, pred);
  const rows: SweepRow[] = [];
  const params: Int32Params[] = [];
  if (opts.artifactOut && opts.shapes.length !== 1) throw new Error(`mlp sweep: an artifact is written for one shape, got ${opts.shapes.length}`);
  for (const hidden of opts.shapes) {
    const t0 = performance.now();
    const recipe = matrixRecipe(hidden, opts.epochs, log);
    const fitted = fitAll(rec, recipe);
    const { model } = fitted;
    if (model.parts.kind !== "mlp") throw new Error("mlp sweep: the recipe fitted a tree");
    const m = judge(model.predict(hold.x, all));
    const p = model.parts.q;
    params.push(p);
    rows.push({
      shape: [p.features.length, ...p.layers.map((L) => L.out)], params_bytes: slotImage({ kind: "mlp", params: p }, 1).paramBytes,
      holdout_f1: m.f1, holdout_recall: m.recall, holdout_fpr: m.fpr, holdout_fp: m.fp, kernel_ns: 0, kernel_v3_ns: null,
      val_f1: model.parts.fit.val.f1, train_s: (performance.now() - t0) / 1000, source: "sweep",
    });
    if (opts.artifactOut) {
      const text = [
        "## Judged on a run it never saw (`xids bench --mlp-sweep`)", "",
        `No leave-one-out for this artifact: it is the shape sweep's recommended shape, trained with matrix-mlp's recipe (${opts.epochs} epochs) on every recording of ${MATRIX_DATA}, judged on ${HOLDOUT_DATA} (seed 26) through the int32 reference:`,
        `F1 ${m.f1.toFixed(4)}, recall ${m.recall.toFixed(4)}, FPR ${(m.fpr * 100).toFixed(2)} % (${m.fp} of ${m.fp + m.tn} benign flows), over ${hold.n} flows. BENCHMARKS.md, "In-kernel MLP: shape sweep", has the other shapes beside it.`,
      ].join("\n");
      trainFinalModel(rec, recipe, opts.artifactOut, { data: MATRIX_DATA, command: opts.command ?? "bun run xids bench --mlp-sweep", test: m, testIs: `${HOLDOUT_DATA} (seed 26, never trained on)`, reportText: text }, fitted);
      log(`wrote ${opts.artifactOut}`);
    }
    log(`[${rows.at(-1)!.shape.join(",")}]: holdout F1 ${m.f1.toFixed(4)} recall ${m.recall.toFixed(4)} FPR ${(m.fpr * 100).toFixed(2)} % (${rows.at(-1)!.train_s.toFixed(0)} s)`);
  }
  // The shipped model as it is (40 epochs), for reference beside its shape's sweep row.
  const shipped = loadArtifact(join(REPO, SHIPPED_MLP));
  const km: KernelModel = kernelModelOf(shipped);
  if (km.kind !== "mlp") throw new Error(`${SHIPPED_MLP}: not an MLP`);
  const sm = judge((await predictUserSpace(shipped, hold.x, hold.n)).pred);
  params.push(km.params);
  rows.push({
    shape: [km.params.features.length, ...km.params.layers.map((L) => L.out)], params_bytes: slotImage(km, 1).paramBytes,
    holdout_f1: sm.f1, holdout_recall: sm.recall, holdout_fpr: sm.fpr, holdout_fp: sm.fp, kernel_ns: 0, kernel_v3_ns: null, val_f1: NaN, train_s: 0, source: "shipped",
  });
  log(`timing ${params.length} models in the kernel (${opts.samples} samples x ${opts.repeat} repeats)`);
  const ns = kernelNs(params, opts);
  ns.forEach((v, i) => (rows[i]!.kernel_ns = v));
  if (opts.v3) {
    const v3 = kernelNs(params, { ...opts, object: join(REPO, "bpf", "build", "xids-v3.bpf.o") });
    v3.forEach((v, i) => (rows[i]!.kernel_v3_ns = v));
  }
  return { rows, params };
}

export function sweepTable(rows: SweepRow[], epochs: number): string {
  const head = ["shape", "params bytes", "holdout F1", "recall", "FPR (benign flows flagged)", "kernel ns/flow", "kernel ns, -mcpu=v3", "model"];
  const body = rows.map((r) => [
    `[${r.shape.join(",")}]`, r.params_bytes.toLocaleString("en-US"), r.holdout_f1.toFixed(4), r.holdout_recall.toFixed(4),
    `${(r.holdout_fpr * 100).toFixed(2)} % (${r.holdout_fp})`, r.kernel_ns.toFixed(0), r.kernel_v3_ns === null ? "" : r.kernel_v3_ns.toFixed(0),
    r.source === "shipped" ? `${SHIPPED_MLP} (40 epochs)` : `sweep (${epochs} epochs)`,
  ]);
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((b) => `| ${b.join(" | ")} |`)].join("\n");
}
