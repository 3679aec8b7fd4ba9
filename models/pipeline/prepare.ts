// Shared front half of training and evaluation: load, digest, split, weights. Evaluation uses
// the same code to rebuild the exact test split an artifact was judged on.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { csvFiles, loadCsv, type Dataset } from "../data/csv.ts";
import { classWeights, DEFAULT_SPLIT, stratifiedSplit, type Split, type SplitOptions } from "../data/split.ts";

export interface Prepared {
  data: Dataset;
  digest: string;
  split: Split;
  splitOptions: SplitOptions;
  weights: [number, number];
}

/** sha256 over the CSV files, by name then bytes, in sorted order. */
export function dataDigest(path: string): string {
  const h = createHash("sha256");
  for (const f of csvFiles(path)) {
    h.update(basename(f)).update("\0").update(readFileSync(f)).update("\0");
  }
  return `sha256:${h.digest("hex")}`;
}

export function prepare(path: string, splitOptions: SplitOptions = DEFAULT_SPLIT, benignBoost = 1): Prepared {
  const data = loadCsv(path);
  const split = stratifiedSplit(data.label, splitOptions);
  const ytr = Uint8Array.from(split.train, (i) => data.y[i]!);
  return { data, digest: dataDigest(path), split, splitOptions, weights: classWeights(ytr, benignBoost) };
}

export function labels(y: Uint8Array, idx: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: idx.length }, (_, i) => y[idx[i]!]!);
}
