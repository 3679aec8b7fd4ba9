// A models/ Predictor backed by the kernel: every row goes through the in-kernel classifier with
// BPF_PROG_TEST_RUN (the same tail-called stages that run on live flows).
import type { Predictor } from "../../../models/pipeline/predict.ts";
import { DataPlane } from "../../../core/ebpf/dataplane.ts";
import { NUM_FEATURES } from "./abi.ts";
import { kernelModelOf, probesFor } from "./probes.ts";
import { ModelSlots } from "./model-slots.ts";

/** x: n x 22 kernel feature vectors; values are floored to integers as the kernel derives them. */
export const predictKernel: Predictor = async (model, x, n) => {
  if (x.length !== n * NUM_FEATURES) throw new RangeError(`expected ${n} x ${NUM_FEATURES} feature values, got ${x.length}`);
  const km = kernelModelOf(model);
  using dp = DataPlane.load({ modelAction: "alert" });
  const slots = new ModelSlots(dp.coll);
  await slots.activate(km, 1, probesFor(km));
  const pred = new Uint8Array(n);
  const score = new Float64Array(n);
  const chunk = 4096;
  for (let start = 0; start < n; start += chunk) {
    const rows: bigint[][] = [];
    for (let i = start; i < Math.min(n, start + chunk); i++) {
      rows.push(Array.from({ length: NUM_FEATURES }, (_, f) => {
        const v = Math.floor(x[i * NUM_FEATURES + f]!);
        return BigInt(Number.isFinite(v) && v > 0 ? v : 0);
      }));
    }
    slots.evaluate(rows).forEach((r, k) => {
      if (!r.classified) throw new Error(`row ${start + k}: the kernel gave no verdict`);
      pred[start + k] = r.attack ? 1 : 0;
      score[start + k] = r.score;
    });
  }
  return { pred, score };
};
