// From a model artifact (models/) to what the kernel runs, plus the oracle's answer for any
// feature vector, so the kernel can be checked against it before a model goes live.
import type { Model } from "../../../models/artifact/load.ts";
import { inferInt32 } from "../../../models/mlp/int32.ts";
import { gbtVerdict, kernelValue } from "../../../models/gbt/ensemble.ts";
import { NUM_FEATURES } from "./abi.ts";
import { KernelModelError, type KernelModel } from "./slot-image.ts";

export function kernelModelOf(model: Model): KernelModel {
  switch (model.kind) {
    case "mlp-int32":
      return { kind: "mlp", params: model.params };
    case "dt":
      return { kind: "dt", tree: model.tree, features: model.features };
    case "gbt":
      return { kind: "gbt", ensemble: model.ensemble, features: model.features };
    case "xgb":
      throw new KernelModelError(`${model.dir}: XGBoost models run in user space (ONNX Runtime), not in the kernel`);
  }
}

/** The TypeScript oracle on one 22-feature vector, in the kernel's terms. */
export function referenceVerdict(km: KernelModel, x: readonly bigint[]): { attack: boolean; score: number } {
  if (km.kind === "mlp") {
    const r = inferInt32(km.params, km.params.features.map((f) => x[f]!));
    return { attack: r.attack, score: r.score };
  }
  if (km.kind === "gbt") {
    const r = gbtVerdict(km.ensemble, (i) => kernelValue(x[km.features[i]!]!));
    return { attack: r.attack, score: r.score };
  }
  const t = km.tree;
  let i = 0;
  while (t.feature[i] !== -1) i = x[km.features[t.feature[i]!]!]! <= BigInt(t.threshold[i]!) ? t.left[i]! : t.right[i]! ;
  return { attack: t.cls[i] === 1, score: t.value[i]! };
}

/** Probe vectors for activation checks: zeros, extremes, and a seeded spread of typical values. */
export function probeVectors(n = 64, seed = 0x5eed): bigint[][] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const rows: bigint[][] = [new Array(NUM_FEATURES).fill(0n), new Array(NUM_FEATURES).fill(1n << 40n)];
  while (rows.length < n) {
    rows.push(Array.from({ length: NUM_FEATURES }, () => {
      const r = next();
      return BigInt(Math.floor(r < 0.5 ? next() * 2000 : r < 0.9 ? next() * 2e6 : next() * 2 ** 33));
    }));
  }
  return rows;
}

/** Activation options that make the kernel prove it computes what the oracle computes. */
export function probesFor(km: KernelModel): { probes: bigint[][]; expected: { attack: boolean; score: number }[] } {
  const probes = probeVectors();
  return { probes, expected: probes.map((p) => referenceVerdict(km, p)) };
}
