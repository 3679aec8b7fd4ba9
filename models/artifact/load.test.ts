// Corrupted or mismatched artifacts are rejected with the exact reason. Each case copies a
// committed artifact to a temp folder and breaks one thing.
import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadArtifact } from "./load.ts";

const MODELS = resolve(import.meta.dir, "..", "artifacts");
const tmp = mkdtempSync(join(tmpdir(), "xids-art-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

type Json = Record<string, any>;
function corrupt(artifact: string, file: string, edit: (j: Json) => void): string {
  const dir = join(tmp, `${artifact}-${n++}`);
  cpSync(join(MODELS, artifact), dir, { recursive: true });
  const p = join(dir, file);
  const j = JSON.parse(readFileSync(p, "utf8")) as Json;
  edit(j);
  // JSON.stringify turns NaN into null, exactly what a NaN-producing exporter would leave.
  writeFileSync(p, JSON.stringify(j));
  return dir;
}
const reason = (dir: string, r: string) => `invalid model artifact ${dir}: ${r}`;

test("committed artifacts load", () => {
  expect(loadArtifact(join(MODELS, "mlp-int32")).kind).toBe("mlp-int32");
  expect(loadArtifact(join(MODELS, "dt")).kind).toBe("dt");
  expect(loadArtifact(join(MODELS, "xgb")).kind).toBe("xgb");
});

test("MLP: wrong shapes", () => {
  let d = corrupt("mlp-int32", "manifest.json", (m) => { m.layers[1].in = 31; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "layer 1 input width 31 does not match layer 0 output 32"));
  d = corrupt("mlp-int32", "params.json", (p) => { p.layers[0].w_q.pop(); });
  const k = loadArtifact(join(MODELS, "mlp-int32")).features.length;
  expect(() => loadArtifact(d)).toThrow(reason(d, `layer 0 w_q has ${k * 32 - 1} entries, expected ${k * 32}`));
  d = corrupt("mlp-int32", "manifest.json", (m) => { m.layers[2].out = 3; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "params layer 2 shape 32x2 differs from manifest 32x3"));
});

test("MLP: missing feature", () => {
  const d = corrupt("mlp-int32", "manifest.json", (m) => { m.features.pop(); });
  const k = loadArtifact(join(MODELS, "mlp-int32")).features.length;
  expect(() => loadArtifact(d)).toThrow(reason(d, `layer 0 input width ${k} does not match the ${k - 1} features`));
  const e = corrupt("mlp-int32", "manifest.json", (m) => { delete m.features[0].name; });
  expect(() => loadArtifact(e)).toThrow(`features[0] (index `);
  const f = corrupt("mlp-int32", "manifest.json", (m) => { m.features[0].name = "Bwd Packets/s"; });
  expect(() => loadArtifact(f)).toThrow(/features\[0\] name 'Bwd Packets\/s' does not match kernel feature \d+ '/);
});

test("MLP: NaN parameters", () => {
  let d = corrupt("mlp-int32", "params.json", (p) => { p.layers[1].w_q[5] = NaN; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "layer 1 w_q[5] is not an integer (null/NaN)"));
  d = corrupt("mlp-int32", "params.json", (p) => { p.layers[0].bias_q[2] = 1.5; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "layer 0 bias_q[2] is not an integer (1.5)"));
  d = corrupt("mlp-int32", "manifest.json", (m) => { m.scaler.std_q[0] = 0; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "scaler.std_q[0] = 0 is outside [1, 4503599627370496]"));
  d = corrupt("mlp-int32", "float.json", (f) => { f.layers[0].w[0] = NaN; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "float layer 0 w[0] is not a finite number (null/NaN)"));
  d = corrupt("mlp-int32", "params.json", (p) => { p.layers[0].w_q[0] = 2 ** 31; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "layer 0 w_q[0] = 2147483648 is outside [-2147483648, 2147483647]"));
});

test("MLP: out-of-range s / b and unprovable overflow", () => {
  let d = corrupt("mlp-int32", "manifest.json", (m) => { m.quantization.b = 17; m.quantization.s = 2 ** 17; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "quantization.b 17 out of range 1..16"));
  d = corrupt("mlp-int32", "manifest.json", (m) => { m.quantization.s = 1000; });
  expect(() => loadArtifact(d)).toThrow(/quantization\.s 1000 is not 2\^b = \d+/);
  d = corrupt("mlp-int32", "params.json", (p) => { p.b = p.b + 1; });
  expect(() => loadArtifact(d)).toThrow("differs from manifest b");
  d = corrupt("mlp-int32", "manifest.json", (m) => { m.features[0].xmax = 2 ** 31 + 1; });
  expect(() => loadArtifact(d)).toThrow("xmax 2147483649 must be an integer in 1..2^31");
  d = corrupt("mlp-int32", "params.json", (p) => { p.layers[0].w_q = p.layers[0].w_q.map(() => 2 ** 31 - 1); p.layers[1].w_q = p.layers[1].w_q.map(() => 2 ** 31 - 1); });
  expect(() => loadArtifact(d)).toThrow(/overflow analysis failed: layer 0: \|acc\| can reach \d+ >= 2\^63; layer 1: /);
});

test("manifest-level corruption", () => {
  let d = corrupt("dt", "manifest.json", (m) => { m.format_version = 2; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "unsupported format_version 2 (this build reads 1)"));
  d = corrupt("dt", "manifest.json", (m) => { m.kind = "svm"; });
  expect(() => loadArtifact(d)).toThrow(reason(d, 'unknown kind "svm" (expected one of mlp-int32, dt, xgb, gbt)'));
  d = corrupt("dt", "manifest.json", (m) => { m.features[1] = { ...m.features[0] }; });
  expect(() => loadArtifact(d)).toThrow("listed twice");
  d = corrupt("dt", "manifest.json", (m) => { m.features[0].index = 37; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "features[0].index 37 is not a kernel feature index 0..36"));
  d = corrupt("dt", "manifest.json", () => {});
  writeFileSync(join(d, "manifest.json"), "{ not json");
  expect(() => loadArtifact(d)).toThrow(`invalid model artifact ${d}: manifest.json is not valid JSON`);
  expect(() => loadArtifact(join(tmp, "absent"))).toThrow("folder does not exist");
});

test("DT: bad nodes", () => {
  let d = corrupt("dt", "tree.json", (t) => { t.feature[0] = 99; });
  expect(() => loadArtifact(d)).toThrow(/tree\.feature\[0\] = 99 is outside \[-1, \d+\]/);
  d = corrupt("dt", "tree.json", (t) => { t.left[0] = 0; });
  expect(() => loadArtifact(d)).toThrow(reason(d, `tree node 0: children 0, ${JSON.parse(readFileSync(join(MODELS, "dt/tree.json"), "utf8")).right[0]} must come after the node`));
  d = corrupt("dt", "tree.json", (t) => { t.threshold[0] = NaN; });
  expect(() => loadArtifact(d)).toThrow(reason(d, "tree.threshold[0] is not an integer (null/NaN)"));
  d = corrupt("dt", "tree.json", (t) => { t.value.pop(); });
  expect(() => loadArtifact(d)).toThrow("tree.value has");
});

test("XGB: missing ONNX file", () => {
  const d = corrupt("xgb", "manifest.json", () => {});
  unlinkSync(join(d, "model.onnx"));
  expect(() => loadArtifact(d)).toThrow(reason(d, 'onnx file "model.onnx" is missing'));
});

test("committed MLP: b follows the ECDF rule and params are exactly the quantised float twin", async () => {
  const { allParams, chooseBits, quantize, overflowAnalysis } = await import("../mlp/quantize.ts");
  const m = loadArtifact(join(MODELS, "mlp-int32"));
  if (m.kind !== "mlp-int32") throw new Error("wrong kind");
  const bits = chooseBits(allParams(m.float), m.manifest.quantization.alpha);
  expect(bits.b).toBe(m.params.b);
  expect(m.manifest.quantization.s).toBe(2 ** bits.b);
  const q = quantize(m.float, m.features, m.params.b);
  expect(q.mean_q).toEqual(m.params.mean_q);
  expect(q.std_q).toEqual(m.params.std_q);
  q.layers.forEach((L, l) => {
    expect(Array.from(L.w_q)).toEqual(Array.from(m.params.layers[l]!.w_q));
    expect(Array.from(L.bias_q)).toEqual(Array.from(m.params.layers[l]!.bias_q));
  });
  expect(overflowAnalysis(m.params).ok).toBe(true);
});
