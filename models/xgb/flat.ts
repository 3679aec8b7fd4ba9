// XGBoost trees (binary:logistic, gbtree) as flat typed arrays over all trees, read from the
// artifact's XGBoost JSON: the file the ONNX graph was converted from (models/onnx/xgb2onnx.ts),
// so both user-space backends start from the same numbers and no protobuf decoding is needed.
// Thresholds and leaf values are stored as float32, as the ONNX graph's floats attributes are.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { XgbModel } from "../artifact/load.ts";
import { xgbBinaryTrees, type XgbJson } from "../onnx/xgb2onnx.ts";

export class CompiledEnsembleError extends Error {}

/**
 * Node arrays over all trees (absolute indices). A leaf has feature -1 and its value in `leaf`.
 * Thresholds and leaf values are float32, as they are in the ONNX graph (floats attributes).
 */
export interface FlatEnsemble {
  nFeatures: number;
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** 1 where a missing (NaN) input takes the left ("yes") branch: XGBoost's default_left,
   *  the ONNX graph's nodes_missing_value_tracks_true. */
  missingLeft: Uint8Array;
  leaf: Float32Array;
  /** logit(base_score) as float32: ORT's base_values[0]. */
  baseMargin: number;
}

export function flattenXgb(model: XgbJson, nFeatures: number): FlatEnsemble {
  const { trees, baseMargin } = xgbBinaryTrees(model, nFeatures, CompiledEnsembleError);
  const total = trees.reduce((s, t) => s + t.left_children.length, 0);
  const e: FlatEnsemble = {
    nFeatures,
    roots: new Int32Array(trees.length),
    feature: new Int32Array(total),
    threshold: new Float32Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    missingLeft: new Uint8Array(total),
    leaf: new Float32Array(total),
    baseMargin: Math.fround(baseMargin),
  };
  let base = 0;
  trees.forEach((t, ti) => {
    const n = t.left_children.length;
    e.roots[ti] = base;
    for (let i = 0; i < n; i++) {
      const j = base + i;
      if (t.left_children[i] === -1) {
        e.feature[j] = -1;
        e.leaf[j] = t.split_conditions[i]!;
        continue;
      }
      const f = t.split_indices[i]!;
      const l = t.left_children[i]!, r = t.right_children[i]!;
      if (!(f >= 0 && f < nFeatures)) throw new CompiledEnsembleError(`tree ${ti} node ${i}: feature ${f} out of range`);
      if (!(l > i && l < n && r > i && r < n)) throw new CompiledEnsembleError(`tree ${ti} node ${i}: children ${l}, ${r} must come after the node, inside the tree`);
      e.feature[j] = f;
      e.threshold[j] = t.split_conditions[i]!;
      e.left[j] = base + l;
      e.right[j] = base + r;
      e.missingLeft[j] = t.default_left[i] ? 1 : 0;
    }
    base += n;
  });
  return e;
}

/** The artifact's trees (manifest files.xgboost), checked against its feature count. */
export function loadFlatEnsemble(model: XgbModel): FlatEnsemble {
  const path = join(model.dir, model.manifest.files.xgboost);
  let json: XgbJson;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as XgbJson;
  } catch (e) {
    throw new CompiledEnsembleError(`${path}: cannot read the XGBoost trees (${(e as Error).message})`);
  }
  try {
    return flattenXgb(json, model.features.length);
  } catch (e) {
    throw new CompiledEnsembleError(`${path}: ${(e as Error).message}`);
  }
}

/**
 * The reference walk: adds each tree's leaf value to margin[r] for rows 0..n-1, tree by tree
 * (the per-row sum order ORT uses), each partial sum rounded to float32 by the store.
 * x < t goes left, as BRANCH_LT; a NaN goes where missingLeft says.
 */
export function accumulateFlat(e: FlatEnsemble, x: Float32Array, n: number, margin: Float32Array): void {
  const { roots, feature, threshold, left, right, missingLeft, leaf, nFeatures: k } = e;
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!;
    for (let r = 0, off = 0; r < n; r++, off += k) {
      let j = root;
      let f = feature[j]!;
      while (f >= 0) {
        const v = x[off + f]!;
        j = v < threshold[j]! || (v !== v && missingLeft[j] === 1) ? left[j]! : right[j]!;
        f = feature[j]!;
      }
      margin[r] = margin[r]! + leaf[j]!;
    }
  }
}
