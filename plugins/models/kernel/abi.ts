// The TypeScript face of the classifier part of bpf/xids.h (struct layouts and constants).
// test/inference/abi.test.ts checks these against xids.h (host-compiled) and the loaded maps.
import { defineStruct } from "../../../native/index.ts";
import { NUM_FEATURES, ModelAction } from "../../../core/ebpf/abi.ts";
import { GBT_MAX_NODES, GBT_MAX_STEPS } from "../../../models/index.ts";
export { ModelAction };

export const MODEL_SLOTS = 2;
export const MLP_MAX_INPUTS = 38;
export const MLP_MAX_WIDTH = 64;
export const MLP_MAX_LAYERS = 16;
export const DT_MAX_NODES = 4096;
// The ensemble bounds the artifact loader already refuses beyond (one definition, checked here).
export { GBT_MAX_NODES, GBT_MAX_STEPS };
export const GBT_END = 0xffffffff;
export const MAX_PENDING = 8;
export { NUM_FEATURES };
export const EVAL_ACTIVE_SLOT = 0xffffffff;

export const ModelKind = { NONE: 0, MLP: 1, DT: 2, GBT: 3 } as const;
export const Stage = { ENTRY: 0, LAYER: 1 } as const;
// The record's verdict codes (enum xids_verdict), in the classifier's spelling.
export const Verdict = { NONE: 0, BENIGN: 1, ATTACK: 2 } as const;

export const CLASSIFIER_MAPS = {
  progs: "classify_progs",
  index: "model_index",
  meta: "model_meta",
  layers: "mlp_layers",
  nodes: "dt_nodes",
  gbt: "gbt_slots",
  state: "infer_state",
} as const;

export const CLASSIFIER_PROGRAMS = {
  entry: "xids_cls_entry",
  layer: "xids_cls_layer",
  eval: "xids_classify_eval",
} as const;

export const ModelIndex = defineStruct("xids_model_index", [["active_slot", "u32"], ["pad", "u32"]] as const);

export const ModelMeta = defineStruct("xids_model_meta", [
  ["kind", "u32"],
  ["version", "u32"],
  ["n_inputs", "u32"],
  ["n_layers", "u32"],
  ["shift", "u32"],
  ["n_nodes", "u32"],
  ["log_mask", "u64"],
  ["feature_idx", { array: "u32", length: MLP_MAX_INPUTS }],
  ["xmax", { array: "u64", length: MLP_MAX_INPUTS }],
  ["mean_q", { array: "s64", length: MLP_MAX_INPUTS }],
  ["std_q", { array: "u64", length: MLP_MAX_INPUTS }],
  ["layer_in", { array: "u32", length: MLP_MAX_LAYERS }],
  ["layer_out", { array: "u32", length: MLP_MAX_LAYERS }],
] as const);

export const MlpLayer = defineStruct("xids_mlp_layer", [
  // w + 2^31 as u32: the kernel has no sign-extending load (bpf/classify.h)
  ["w", { array: "u32", length: MLP_MAX_WIDTH * MLP_MAX_WIDTH }],
  ["bias", { array: "s32", length: MLP_MAX_WIDTH }],
  // per row, Σ_p w[2p]·w[2p+1] (signed weights) modulo 2^64: the pairwise dot product's constant (bpf/classify.h)
  ["wpair", { array: "s64", length: MLP_MAX_WIDTH }],
] as const);

export const DtNode = defineStruct("xids_dt_node", [
  ["threshold", "s64"],
  ["feature", "s32"],
  ["left", "u16"],
  ["right", "u16"],
  ["value", "s32"],
  ["is_attack", "u32"],
] as const);

export const GbtNode = defineStruct("xids_gbt_node", [
  ["threshold", "s64"],
  ["feature", "s32"],
  ["next", "u32"],
] as const);

/** struct xids_gbt_slot: a 24-byte header (base, threshold, n_trees, n_nodes), then the nodes.
 *  Encoded by hand (slot-image.ts): one 256 KiB value, written with one update. */
export const GbtSlotLayout = {
  base: 0, threshold: 8, n_trees: 16, n_nodes: 20, nodes: 24,
  size: 24 + GBT_MAX_NODES * GbtNode.size,
} as const;

export const InferState = defineStruct("xids_infer_state", [
  ["seq", "u64"],
  ["slot", "u32"],
  ["version", "u32"],
  ["layer", "u32"],
  ["rec", "u32"],
  ["n_rec", "u32"],
  ["pkt_verdict", "u32"],
  ["eval", "u32"],
  ["eval_slot", "u32"],
  ["act", { array: "s64", length: 2 * MLP_MAX_WIDTH }],
] as const);

export const EvalIo = defineStruct("xids_eval_io", [
  ["slot", "u32"],
  ["pad", "u32"],
  ["features", { array: "u64", length: NUM_FEATURES }],
  ["verdict", "u32"],
  ["score", "s32"],
  ["slot_used", "u32"],
  ["version", "u32"],
  ["logit0", "s32"],
  ["logit1", "s32"],
] as const);
