// The benign reference row a flow's score is explained against: one value per kernel feature
// (bpf/FEATURES.md order; as many as the feature set of the data it came from: 22, 32, 35 or 37), the per-feature median of a data set's benign rows. Kept next to the
// model in its artifact folder as baseline.json (training writes it for an int32 MLP;
// models/explain/make-baseline.ts for an artifact made before).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../data/csv.ts";
import { FEATURE_SET_LENGTHS, N_FEATURES } from "../data/features.ts";

export const BASELINE_FILE = "baseline.json";

export interface Baseline {
  /** How the row was made, in words. */
  method: string;
  /** Data set it was computed from and its digest (models/pipeline/prepare.ts dataDigest). */
  data: string;
  data_digest: string;
  /** Benign rows it summarises. */
  rows: number;
  /** One whole number per kernel feature of its feature set, in bpf/FEATURES.md order. */
  values: number[];
}

/** Lower median of each feature over the benign rows: a whole number, as the kernel's features are. */
export function benignMedians(d: Dataset): number[] {
  const benign = [...Array(d.n).keys()].filter((r) => d.y[r] === 0);
  if (benign.length === 0) throw new Error("the data set has no benign rows to take a baseline from");
  return [...Array(N_FEATURES).keys()].map((f) => {
    const col = Float64Array.from(benign, (r) => Math.floor(d.x[r * N_FEATURES + f]!)).sort();
    return col[(col.length - 1) >> 1]!;
  });
}

/** The baseline of a data set (its benign rows), as training writes it next to an int32 MLP. */
export function benignBaseline(d: Dataset, data: string, digest: string): Baseline {
  return { method: "per-feature lower median of the benign rows", data, data_digest: digest, rows: d.report.benign, values: benignMedians(d) };
}

/** Reads `file`; every way it can be wrong is an error naming the file and the field. */
export function loadBaseline(file: string): Baseline {
  if (!existsSync(file)) throw new Error(`${file}: no such baseline file (models/explain/make-baseline.ts writes one; or give --baseline <file>)`);
  let v: Partial<Baseline>;
  try {
    v = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const values = v?.values;
  if (!Array.isArray(values) || !FEATURE_SET_LENGTHS.includes(values.length))
    throw new Error(`${file}: "values" must be an array of ${FEATURE_SET_LENGTHS.join(", ")} numbers (bpf/FEATURES.md order, one per feature of a feature set), got ${JSON.stringify(values)?.slice(0, 60)}`);
  const bad = values.findIndex((x) => !Number.isSafeInteger(x) || x < 0);
  if (bad !== -1) throw new Error(`${file}: values[${bad}] = ${JSON.stringify(values[bad])} is not a whole number >= 0`);
  return { method: String(v.method ?? ""), data: String(v.data ?? ""), data_digest: String(v.data_digest ?? ""), rows: Number(v.rows ?? 0), values };
}

/** The baseline an artifact folder carries. */
export const artifactBaseline = (dir: string): Baseline => loadBaseline(join(dir, BASELINE_FILE));
