// The ModelUpdater for the in-kernel classifier: a checked artifact (int32 MLP or decision tree)
// is written into the idle parameter slot, verified in the kernel against the TypeScript reference
// (models/) on probe vectors, and only then made active (core/inference/model-slots.ts). Any
// failure leaves the active model untouched.
import { inferInt32, inferTree, N_FEATURES, type Model } from "../../models/index.ts";
import type { KernelModel } from "../inference/kernel-model.ts";
import { ModelSlots } from "../inference/model-slots.ts";
import type { ModelArtifact, ModelUpdater } from "./ports.ts";

export function kernelModelOf(model: Model): KernelModel {
  if (model.kind === "mlp-int32") return { kind: "mlp", params: model.params };
  if (model.kind === "dt") return { kind: "dt", tree: model.tree, features: model.features };
  throw new Error(`${model.dir}: ${model.kind} models run in user space, not in the kernel`);
}

/** The reference answer for one 22-feature vector, in the kernel's terms. */
function reference(km: KernelModel, x: readonly bigint[]): { attack: boolean; score: number } {
  if (km.kind === "mlp") {
    const r = inferInt32(km.params, km.params.features.map((f) => x[f]!));
    return { attack: r.attack, score: r.score };
  }
  const r = inferTree(km.tree, km.features.map((f) => Number(x[f]!)));
  return { attack: r.attack, score: r.value };
}

/** Zeros, large values, and a seeded spread of typical magnitudes. */
function probeVectors(n = 64, seed = 0x5eed): bigint[][] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rows: bigint[][] = [new Array<bigint>(N_FEATURES).fill(0n), new Array<bigint>(N_FEATURES).fill(1n << 40n)];
  while (rows.length < n) {
    rows.push(
      Array.from({ length: N_FEATURES }, () => {
        const r = next();
        return BigInt(Math.floor(r < 0.5 ? next() * 2000 : r < 0.9 ? next() * 2e6 : next() * 2 ** 33));
      }),
    );
  }
  return rows;
}

export class KernelModelUpdater implements ModelUpdater {
  readonly wired = true;
  private active: { name: string; version: number } | null = null;
  private version: number;

  constructor(private readonly slots: ModelSlots) {
    // Versions keep increasing across core restarts on pinned maps.
    this.version = Math.max(slots.info(0).version, slots.info(1).version);
  }

  async push(artifact: ModelArtifact): Promise<{ version: number }> {
    const km = kernelModelOf(artifact.loaded as Model);
    const probes = probeVectors();
    const version = this.version + 1;
    await this.slots.activate(km, version, { probes, expected: probes.map((p) => reference(km, p)) });
    this.version = version;
    this.active = { name: artifact.name, version };
    return { version };
  }

  current(): { name: string; version: number } | null {
    return this.active;
  }
}
