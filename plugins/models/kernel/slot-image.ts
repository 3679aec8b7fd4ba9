// Turns a model (int32 MLP parameters or a flat decision tree) into the exact map contents of one
// parameter slot, validating every bound the BPF programs rely on. A model that does not fit is
// rejected here, before anything is written to the kernel.
import type { Int32Params } from "../../../models/mlp/int32.ts";
import type { FlatTree } from "../../../models/tree/cart.ts";
import { GbtError, validateEnsemble, type GbtEnsemble } from "../../../models/gbt/ensemble.ts";
import {
  DT_MAX_NODES, GBT_END, GBT_MAX_NODES, GBT_MAX_STEPS, GbtNode, GbtSlotLayout, MLP_MAX_INPUTS, MLP_MAX_LAYERS, MLP_MAX_WIDTH,
  ModelKind, NUM_FEATURES,
} from "./abi.ts";
import type { DtNode, MlpLayer, ModelMeta } from "./abi.ts";

type Meta = ReturnType<typeof ModelMeta.zero>;
type Layer = ReturnType<typeof MlpLayer.zero>;
type Node = ReturnType<typeof DtNode.zero>;

export class KernelModelError extends Error {
  override name = "KernelModelError";
}

export type KernelModel =
  | { kind: "mlp"; params: Int32Params }
  | { kind: "dt"; tree: FlatTree; features: number[] }
  | { kind: "gbt"; ensemble: GbtEnsemble; features: number[] };

export interface SlotImage {
  meta: Meta;
  layers: Layer[];
  nodes: Node[];
  /** GBT: the whole struct xids_gbt_slot value. */
  gbt?: Uint8Array;
  /** Parameter bytes the model really uses (what the paper's 5,248 B compares with). */
  paramBytes: number;
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

function emptyMeta(kind: number, version: number): Meta {
  return {
    kind, version, n_inputs: 0, n_layers: 0, shift: 0, n_nodes: 0, log_mask: 0n,
    feature_idx: new Array(MLP_MAX_INPUTS).fill(0),
    xmax: new Array(MLP_MAX_INPUTS).fill(0n),
    mean_q: new Array(MLP_MAX_INPUTS).fill(0n),
    std_q: new Array(MLP_MAX_INPUTS).fill(1n),
    layer_in: new Array(MLP_MAX_LAYERS).fill(0),
    layer_out: new Array(MLP_MAX_LAYERS).fill(0),
  };
}

function check(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new KernelModelError(msg);
}

function checkFeatures(features: number[]): void {
  check(features.length >= 1 && features.length <= MLP_MAX_INPUTS, `model has ${features.length} inputs; the kernel takes 1..${MLP_MAX_INPUTS}`);
  features.forEach((f, i) => check(Number.isInteger(f) && f >= 0 && f < NUM_FEATURES, `input ${i} is feature ${f}; the kernel computes features 0..${NUM_FEATURES - 1}`));
}

const padTo4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Per output row j (all MLP_MAX_WIDTH, zero rows included), Σ_p w[j][2p]·w[j][2p+1] over the
 * signed weights, as an s64 modulo 2^64: the constant of the kernel's pairwise (Winograd) dot
 * product, Σ_p (w[2p] + a[2p+1])·(w[2p+1] + a[2p]) − this − Σ_p a[2p]·a[2p+1] = Σ_k w[k]·a[k]
 * (bpf/classify.h). A row of odd length pairs its last weight with a zero one.
 */
export function rowPairSums(L: { in: number; out: number; w_q: ArrayLike<number> }): bigint[] {
  return Array.from({ length: MLP_MAX_WIDTH }, (_, j) => {
    if (j >= L.out) return 0n;
    let sum = 0;
    let big = 0n;
    for (let k = 0; k + 1 < L.in; k += 2) {
      const p = L.w_q[j * L.in + k]! * L.w_q[j * L.in + k + 1]!;
      // |p| <= 2^62: exact as a double only below 2^53, so large products go through BigInt.
      if (Math.abs(p) < 2 ** 53 && Math.abs(sum + p) < 2 ** 53) sum += p;
      else big += BigInt(L.w_q[j * L.in + k]!) * BigInt(L.w_q[j * L.in + k + 1]!);
    }
    return BigInt.asIntN(64, big + BigInt(sum));
  });
}

export function mlpSlotImage(p: Int32Params, version: number): SlotImage {
  checkFeatures(p.features);
  check(Number.isInteger(p.b) && p.b >= 1 && p.b <= 16, `shift b=${p.b} is outside 1..16`);
  check(p.layers.length >= 1 && p.layers.length <= MLP_MAX_LAYERS, `${p.layers.length} layers; the kernel runs 1..${MLP_MAX_LAYERS}`);
  const meta = emptyMeta(ModelKind.MLP, version);
  meta.n_inputs = p.features.length;
  meta.n_layers = p.layers.length;
  meta.shift = p.b;
  if (p.log2) {
    check(p.log2.length === p.features.length, `log2 flags: ${p.log2.length} for ${p.features.length} inputs`);
    // Bit i: input i on a log scale (a u64: up to MLP_MAX_INPUTS = 38 inputs).
    meta.log_mask = p.log2.reduce((m, on, i) => (on ? m | (1n << BigInt(i)) : m), 0n);
  }
  p.features.forEach((f, i) => {
    const xmax = p.xmax[i]!, mean = p.mean_q[i]!, std = p.std_q[i]!;
    check(Number.isInteger(xmax) && xmax >= 0 && xmax <= 2 ** 31, `input ${i}: xmax ${xmax} is outside 0..2^31`);
    check(Number.isInteger(mean) && Math.abs(mean) <= 2 ** 47, `input ${i}: mean_q ${mean} is not an integer within ±2^47`);
    check(Number.isInteger(std) && std >= 1 && std < 2 ** 53, `input ${i}: std_q ${std} must be a positive integer`);
    meta.feature_idx[i] = f;
    meta.xmax[i] = BigInt(xmax);
    meta.mean_q[i] = BigInt(mean);
    meta.std_q[i] = BigInt(std);
  });
  let width = p.features.length;
  const layers: Layer[] = [];
  let paramBytes = 0;
  p.layers.forEach((L, l) => {
    check(L.in === width, `layer ${l} takes ${L.in} inputs but the previous stage gives ${width}`);
    check(L.out >= 1 && L.out <= MLP_MAX_WIDTH, `layer ${l} has ${L.out} outputs; the kernel allows 1..${MLP_MAX_WIDTH}`);
    check(L.w_q.length === L.in * L.out && L.bias_q.length === L.out, `layer ${l}: weights ${L.w_q.length} / biases ${L.bias_q.length} do not match ${L.out}x${L.in}`);
    check(padTo4(L.in) <= MLP_MAX_WIDTH, `layer ${l} has ${L.in} inputs; the kernel allows up to ${MLP_MAX_WIDTH}`);
    // Typed arrays: the struct codec copies them in one go (a slot is rewritten on every update).
    // Offset by 2^31 as the kernel stores them (bpf/classify.h); padding is a zero weight.
    const w = new Uint32Array(MLP_MAX_WIDTH * MLP_MAX_WIDTH).fill(0x80000000);
    for (let j = 0; j < L.out; j++) {
      for (let k = 0; k < L.in; k++) {
        const v = L.w_q[j * L.in + k]!;
        check(Number.isInteger(v) && v >= I32_MIN && v <= I32_MAX, `layer ${l} weight [${j}][${k}] = ${v} is not int32`);
        w[j * MLP_MAX_WIDTH + k] = v + 0x80000000;
      }
    }
    const bias = new Int32Array(MLP_MAX_WIDTH);
    for (let j = 0; j < L.out; j++) {
      const v = L.bias_q[j]!;
      check(Number.isInteger(v) && v >= I32_MIN && v <= I32_MAX, `layer ${l} bias [${j}] = ${v} is not int32`);
      bias[j] = v;
    }
    // The kernel unrolls the dot product by 4; padded inputs meet zero weights.
    meta.layer_in[l] = padTo4(L.in);
    meta.layer_out[l] = L.out;
    layers.push({ w: w as unknown as number[], bias: bias as unknown as number[], wpair: rowPairSums(L) });
    paramBytes += 4 * (L.in * L.out + L.out);
    width = L.out;
  });
  check(width === 2, `the last layer must have 2 outputs (benign, attack logits), has ${width}`);
  paramBytes += 8 * 3 * p.features.length; // xmax, mean_q, std_q per input
  return { meta, layers, nodes: [], paramBytes };
}

export function dtSlotImage(t: FlatTree, features: number[], version: number): SlotImage {
  checkFeatures(features);
  const n = t.feature.length;
  check(n >= 1 && n <= DT_MAX_NODES, `tree has ${n} nodes; the kernel holds 1..${DT_MAX_NODES}`);
  for (const arr of [t.threshold, t.left, t.right, t.value, t.cls]) check(arr.length === n, "tree arrays differ in length");
  const meta = emptyMeta(ModelKind.DT, version);
  meta.n_nodes = n;
  meta.n_inputs = features.length;
  features.forEach((f, i) => (meta.feature_idx[i] = f));
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = t.feature[i] === -1;
    if (!leaf) {
      const fi = t.feature[i]!;
      check(fi >= 0 && fi < features.length, `node ${i} tests input ${fi}, the model has ${features.length}`);
      check(t.left[i]! > i && t.left[i]! < n && t.right[i]! > i && t.right[i]! < n, `node ${i} has children outside (${i}, ${n}): a tree must point forward`);
      check(Number.isInteger(t.threshold[i]), `node ${i} threshold ${t.threshold[i]} is not an integer`);
    }
    nodes.push({
      threshold: leaf ? 0n : BigInt(t.threshold[i]!),
      // The kernel indexes the record's features directly.
      feature: leaf ? -1 : features[t.feature[i]!]!,
      left: leaf ? 0 : t.left[i]!,
      right: leaf ? 0 : t.right[i]!,
      value: t.value[i]!,
      is_attack: t.cls[i]! ? 1 : 0,
    });
  }
  return { meta, layers: [], nodes, paramBytes: n * 24 };
}

const S64_MIN = -(2n ** 63n);
const S64_MAX = 2n ** 63n - 1n;

export function gbtSlotImage(e: GbtEnsemble, features: number[], version: number): SlotImage {
  checkFeatures(features);
  try {
    validateEnsemble(e, features.length, GBT_MAX_NODES, GBT_MAX_STEPS);
  } catch (err) {
    if (err instanceof GbtError) throw new KernelModelError(`boosted ensemble refused: ${err.message}`);
    throw err;
  }
  const base = BigInt(e.base), threshold = BigInt(e.threshold);
  check(base >= S64_MIN && base <= S64_MAX && threshold >= S64_MIN && threshold <= S64_MAX, "base / threshold do not fit s64");
  const meta = emptyMeta(ModelKind.GBT, version);
  const n = e.feature.length;
  meta.n_nodes = n;
  meta.n_inputs = features.length;
  features.forEach((f, i) => (meta.feature_idx[i] = f));
  const buf = new Uint8Array(GbtSlotLayout.size);
  const v = new DataView(buf.buffer);
  v.setBigInt64(GbtSlotLayout.base, base, true);
  v.setBigInt64(GbtSlotLayout.threshold, threshold, true);
  v.setUint32(GbtSlotLayout.n_trees, e.trees, true);
  v.setUint32(GbtSlotLayout.n_nodes, n, true);
  for (let i = 0; i < n; i++) {
    const o = GbtSlotLayout.nodes + i * GbtNode.size;
    const leaf = e.feature[i] === -1;
    v.setBigInt64(o + GbtNode.offsets.threshold!, BigInt(e.split[i]!), true);
    // The kernel indexes the record's features directly.
    v.setInt32(o + GbtNode.offsets.feature!, leaf ? -1 : features[e.feature[i]!]!, true);
    v.setUint32(o + GbtNode.offsets.next!, e.next[i] === -1 ? GBT_END : e.next[i]!, true);
  }
  return { meta, layers: [], nodes: [], gbt: buf, paramBytes: 24 + n * GbtNode.size };
}

export function slotImage(model: KernelModel, version: number): SlotImage {
  switch (model.kind) {
    case "mlp": return mlpSlotImage(model.params, version);
    case "dt": return dtSlotImage(model.tree, model.features, version);
    case "gbt": return gbtSlotImage(model.ensemble, model.features, version);
  }
}
