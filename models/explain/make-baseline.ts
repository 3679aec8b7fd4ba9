// Writes an artifact's baseline.json: the per-feature median of a data set's benign rows, the
// reference `xids explain` measures each feature's contribution against. Training writes it for a
// new int32 MLP; this is for an artifact made before, run on the data it was trained on:
//   bun models/explain/make-baseline.ts models/datasets/matrix models/artifacts/matrix-mlp
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCsv } from "../data/csv.ts";
import { dataDigest } from "../pipeline/prepare.ts";
import { BASELINE_FILE, benignBaseline } from "./baseline.ts";

const [data, artifact] = process.argv.slice(2);
if (!data || !artifact) {
  console.error("usage: bun models/explain/make-baseline.ts <data: csv file or folder> <artifact folder>");
  process.exit(2);
}
const d = loadCsv(data);
const b = benignBaseline(d, data, dataDigest(data));
writeFileSync(join(artifact, BASELINE_FILE), `${JSON.stringify(b, null, 1)}\n`);
console.log(`${join(artifact, BASELINE_FILE)}: medians of ${b.rows} benign rows of ${data}`);
