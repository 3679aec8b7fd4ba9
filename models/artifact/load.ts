// Load and fully validate an artifact folder into a typed model. Nothing half-valid escapes:
// every failure is an ArtifactError naming the folder and the exact reason.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FloatMlp } from "../mlp/float.ts";
import { I32_MAX, I32_MIN, type Int32Params } from "../mlp/int32.ts";
import { B_MAX, B_MIN, overflowAnalysis } from "../mlp/quantize.ts";
import { LEAF_SCALE, type FlatTree } from "../tree/cart.ts";
import { GbtError, validateEnsemble, type GbtEnsemble } from "../gbt/ensemble.ts";
import { ArtifactError, validateBase, type DtManifest, type GbtManifest, type Manifest, type MlpManifest, type XgbManifest } from "./manifest.ts";

export interface MlpModel { kind: "mlp-int32"; dir: string; manifest: MlpManifest; features: number[]; params: Int32Params; float: FloatMlp }
export interface DtModel { kind: "dt"; dir: string; manifest: DtManifest; features: number[]; tree: FlatTree }
export interface XgbModel { kind: "xgb"; dir: string; manifest: XgbManifest; features: number[]; onnxPath: string }
export interface GbtModel { kind: "gbt"; dir: string; manifest: GbtManifest; features: number[]; ensemble: GbtEnsemble }
export type Model = MlpModel | DtModel | XgbModel | GbtModel;

/** The kernel's bounds (bpf/xids.h XIDS_GBT_MAX_*): an artifact beyond them is refused at load. */
export const GBT_MAX_NODES = 16384;
export const GBT_MAX_STEPS = 2048;

export function loadArtifact(dirIn: string): Model {
  const dir = resolve(dirIn);
  const check: (cond: unknown, reason: string) => asserts cond = (cond, reason) => {
    if (!cond) throw new ArtifactError(dir, reason);
  };
  const readJson = (name: string, what: string): Record<string, unknown> => {
    check(typeof name === "string" && name.length > 0 && !name.includes(".."), `${what}: bad file name ${JSON.stringify(name)}`);
    const p = join(dir, name);
    check(existsSync(p), `${what} file ${name} is missing`);
    try {
      const v: unknown = JSON.parse(readFileSync(p, "utf8"));
      check(v && typeof v === "object", `${name} is not a JSON object`);
      return v as Record<string, unknown>;
    } catch (e) {
      if (e instanceof ArtifactError) throw e;
      throw new ArtifactError(dir, `${name} is not valid JSON (${(e as Error).message})`);
    }
  };
  check(existsSync(dir), "folder does not exist");
  const m = readJson("manifest.json", "manifest");
  const features = validateBase(m, check);
  const files = m.files as Record<string, string>;
  switch (m.kind) {
    case "mlp-int32": return loadMlp(dir, m as unknown as MlpManifest, features, readJson(files.params!, "params"), readJson(files.float!, "float parameters"), check);
    case "dt": return loadDt(dir, m as unknown as DtManifest, features, readJson(files.tree!, "tree"), check);
    case "gbt": return loadGbt(dir, m as unknown as GbtManifest, features, readJson(files.ensemble!, "ensemble"), check);
    default: {
      const x = m as unknown as XgbManifest;
      check(typeof files.onnx === "string" && existsSync(join(dir, files.onnx)), `onnx file ${JSON.stringify(files.onnx)} is missing`);
      return { kind: "xgb", dir, manifest: x, features, onnxPath: join(dir, files.onnx) };
    }
  }
}

type Check = (cond: unknown, reason: string) => asserts cond;

function intArray(v: unknown, len: number, what: string, lo: number, hi: number, check: Check): number[] {
  check(Array.isArray(v), `${what} must be an array`);
  check(v.length === len, `${what} has ${v.length} entries, expected ${len}`);
  v.forEach((x, i) => {
    check(typeof x === "number" && Number.isSafeInteger(x), `${what}[${i}] is not an integer (${x === null ? "null/NaN" : JSON.stringify(x)})`);
    check(x >= lo && x <= hi, `${what}[${i}] = ${x} is outside [${lo}, ${hi}]`);
  });
  return v as number[];
}

function floatArray(v: unknown, len: number, what: string, check: Check): Float64Array {
  check(Array.isArray(v), `${what} must be an array`);
  check(v.length === len, `${what} has ${v.length} entries, expected ${len}`);
  v.forEach((x, i) => check(typeof x === "number" && Number.isFinite(x), `${what}[${i}] is not a finite number (${x === null ? "null/NaN" : JSON.stringify(x)})`));
  return Float64Array.from(v as number[]);
}

function loadMlp(dir: string, m: MlpManifest, features: number[], p: Record<string, unknown>, fl: Record<string, unknown>, check: Check): MlpModel {
  const K = features.length;
  const q = m.quantization;
  check(q && typeof q === "object", "manifest.quantization missing");
  check(Number.isInteger(q.b) && q.b >= B_MIN && q.b <= B_MAX, `quantization.b ${JSON.stringify(q.b)} out of range ${B_MIN}..${B_MAX}`);
  check(q.s === 2 ** q.b, `quantization.s ${JSON.stringify(q.s)} is not 2^b = ${2 ** q.b}`);
  check(p.b === q.b, `params b ${JSON.stringify(p.b)} differs from manifest b ${q.b}`);
  check(Array.isArray(m.layers) && m.layers.length > 0, "manifest.layers must be a non-empty array");
  check(Array.isArray(p.layers) && p.layers.length === m.layers.length, `params have ${Array.isArray(p.layers) ? p.layers.length : "no"} layers, manifest declares ${m.layers.length}`);
  let width = K;
  const layers = m.layers.map((L, l) => {
    check(L.in === width, `layer ${l} input width ${L.in} does not match ${l === 0 ? `the ${K} features` : `layer ${l - 1} output ${width}`}`);
    check(Number.isInteger(L.out) && L.out > 0, `layer ${l} output width ${JSON.stringify(L.out)} is not a positive integer`);
    width = L.out;
    const pl = (p.layers as Record<string, unknown>[])[l]!;
    check(pl.in === L.in && pl.out === L.out, `params layer ${l} shape ${pl.in}x${pl.out} differs from manifest ${L.in}x${L.out}`);
    return {
      in: L.in, out: L.out,
      w_q: Int32Array.from(intArray(pl.w_q, L.in * L.out, `layer ${l} w_q`, I32_MIN, I32_MAX, check)),
      bias_q: Int32Array.from(intArray(pl.bias_q, L.out, `layer ${l} bias_q`, I32_MIN, I32_MAX, check)),
    };
  });
  check(width === 2, `last layer has ${width} outputs, expected 2 (benign, attack)`);
  const xmax = m.features.map((f) => f.xmax);
  const s = m.scaler;
  check(s && typeof s === "object", "manifest.scaler missing");
  const mean_q = intArray(s.mean_q, K, "scaler.mean_q", -(2 ** 48), 2 ** 48, check);
  const std_q = intArray(s.std_q, K, "scaler.std_q", 1, 2 ** 52, check);
  let log2: boolean[] | undefined;
  if (s.log2 !== undefined) {
    check(Array.isArray(s.log2) && s.log2.length === K && s.log2.every((v) => typeof v === "boolean"), `scaler.log2 must be ${K} booleans (one per input)`);
    log2 = s.log2.slice();
  }
  const params: Int32Params = { features, xmax, mean_q, std_q, b: q.b, layers, ...(log2 ? { log2 } : {}) };
  const ov = overflowAnalysis(params);
  check(ov.ok, `overflow analysis failed: ${ov.problems.join("; ")}`);
  // The float model is the unquantised twin, kept for the float-vs-int32 comparison.
  const fLayers = fl.layers as Record<string, unknown>[] | undefined;
  check(Array.isArray(fLayers) && fLayers.length === layers.length, "float parameters: layer count differs");
  const float: FloatMlp = {
    mean: floatArray(s.mean, K, "scaler.mean", check),
    std: floatArray(s.std, K, "scaler.std", check),
    xmax: Float64Array.from(xmax),
    ...(log2 ? { log2 } : {}),
    layers: layers.map((L, l) => ({
      in: L.in, out: L.out,
      w: floatArray(fLayers[l]!.w, L.in * L.out, `float layer ${l} w`, check),
      bias: floatArray(fLayers[l]!.bias, L.out, `float layer ${l} bias`, check),
    })),
  };
  return { kind: "mlp-int32", dir, manifest: m, features, params, float };
}

function loadDt(dir: string, m: DtManifest, features: number[], t: Record<string, unknown>, check: Check): DtModel {
  const K = features.length;
  check(Array.isArray(t.feature) && t.feature.length > 0, "tree.feature must be a non-empty array");
  const n = t.feature.length;
  check(m.tree?.nodes === n, `manifest declares ${m.tree?.nodes} nodes, tree has ${n}`);
  const tree: FlatTree = {
    feature: intArray(t.feature, n, "tree.feature", -1, K - 1, check),
    threshold: intArray(t.threshold, n, "tree.threshold", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, check),
    left: intArray(t.left, n, "tree.left", -1, n - 1, check),
    right: intArray(t.right, n, "tree.right", -1, n - 1, check),
    value: intArray(t.value, n, "tree.value", 0, LEAF_SCALE, check),
    cls: intArray(t.cls, n, "tree.cls", 0, 1, check),
  };
  for (let i = 0; i < n; i++) {
    const leaf = tree.feature[i] === -1;
    if (leaf) check(tree.left[i] === -1 && tree.right[i] === -1, `tree node ${i} is a leaf but has children`);
    // Children after their parent: the walk always terminates (no cycles), as the kernel verifier needs.
    else check(tree.left[i]! > i && tree.right[i]! > i, `tree node ${i}: children ${tree.left[i]}, ${tree.right[i]} must come after the node`);
  }
  return { kind: "dt", dir, manifest: m, features, tree };
}

function loadGbt(dir: string, m: GbtManifest, features: number[], e: Record<string, unknown>, check: Check): GbtModel {
  check(Array.isArray(e.feature) && e.feature.length > 0, "ensemble.feature must be a non-empty array");
  const n = e.feature.length;
  check(m.gbt?.nodes === n, `manifest declares ${m.gbt?.nodes} nodes, the ensemble has ${n}`);
  const scalar = (k: string) => {
    check(typeof e[k] === "number" && Number.isSafeInteger(e[k]), `ensemble.${k} is not an integer (${JSON.stringify(e[k])})`);
    return e[k] as number;
  };
  const ensemble: GbtEnsemble = {
    base: scalar("base"), threshold: scalar("threshold"), leafScale: scalar("leaf_scale"), trees: scalar("trees"), steps: scalar("steps"),
    feature: intArray(e.feature, n, "ensemble.feature", -1, features.length - 1, check),
    split: intArray(e.split, n, "ensemble.split", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, check),
    next: intArray(e.next, n, "ensemble.next", -1, n - 1, check),
  };
  try {
    validateEnsemble(ensemble, features.length, GBT_MAX_NODES, GBT_MAX_STEPS);
  } catch (err) {
    if (err instanceof GbtError) throw new ArtifactError(dir, `ensemble: ${err.message}`);
    throw err;
  }
  return { kind: "gbt", dir, manifest: m, features, ensemble };
}

export type { Manifest };
