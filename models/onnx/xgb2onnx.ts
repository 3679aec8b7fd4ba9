// XGBoost JSON model (binary:logistic, gbtree) -> ONNX ai.onnx.ml TreeEnsembleClassifier, so
// user space can serve it with ONNX Runtime and no Python ONNX tooling is involved.
// XGBoost sends x < split_condition to the left ("yes") child: that is BRANCH_LT's true branch.
import { encodeModel, TensorType } from "./model.ts";

export interface XgbTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: (number | boolean)[];
}

export interface XgbJson {
  learner: {
    learner_model_param: { base_score: string; num_feature: string; num_class?: string };
    objective: { name: string };
    gradient_booster: { name: string; model: { trees: XgbTree[]; tree_info?: number[] } };
  };
}

export class ConvertError extends Error {}

export interface ConvertResult {
  onnx: Uint8Array;
  nTrees: number;
  nNodes: number;
  baseMargin: number;
}

/**
 * The trees of a binary:logistic gbtree model with nFeatures inputs, and the margin they add to
 * (the logit of base_score, which is a probability for binary:logistic); anything else is
 * refused with an `Err` naming what. Every reader of an XGBoost JSON model starts here.
 */
export function xgbBinaryTrees(model: XgbJson, nFeatures: number, Err: new (msg: string) => Error): { trees: XgbTree[]; baseMargin: number } {
  const L = model.learner;
  if (L?.objective?.name !== "binary:logistic") throw new Err(`unsupported objective '${L?.objective?.name}' (need binary:logistic)`);
  if (L.gradient_booster?.name !== "gbtree") throw new Err(`unsupported booster '${L.gradient_booster?.name}' (need gbtree)`);
  const nf = Number(L.learner_model_param.num_feature);
  if (nf !== nFeatures) throw new Err(`model has ${nf} features, expected ${nFeatures}`);
  const baseScore = Number(String(L.learner_model_param.base_score).replace(/[[\]]/g, ""));
  if (!(baseScore > 0 && baseScore < 1)) throw new Err(`bad base_score '${L.learner_model_param.base_score}'`);
  return { trees: L.gradient_booster.model.trees, baseMargin: Math.log(baseScore / (1 - baseScore)) };
}

export function xgbJsonToOnnx(model: XgbJson, nFeatures: number, docString = ""): ConvertResult {
  const { trees, baseMargin } = xgbBinaryTrees(model, nFeatures, ConvertError);
  const a = {
    nodes_treeids: [] as number[], nodes_nodeids: [] as number[], nodes_featureids: [] as number[],
    nodes_values: [] as number[], nodes_modes: [] as string[], nodes_truenodeids: [] as number[],
    nodes_falsenodeids: [] as number[], nodes_missing_value_tracks_true: [] as number[],
    class_treeids: [] as number[], class_nodeids: [] as number[], class_ids: [] as number[], class_weights: [] as number[],
  };
  trees.forEach((t, ti) => {
    for (let i = 0; i < t.left_children.length; i++) {
      const leaf = t.left_children[i] === -1;
      a.nodes_treeids.push(ti); a.nodes_nodeids.push(i);
      if (leaf) {
        a.nodes_featureids.push(0); a.nodes_values.push(0); a.nodes_modes.push("LEAF");
        a.nodes_truenodeids.push(0); a.nodes_falsenodeids.push(0); a.nodes_missing_value_tracks_true.push(0);
        a.class_treeids.push(ti); a.class_nodeids.push(i); a.class_ids.push(0); a.class_weights.push(t.split_conditions[i]!);
      } else {
        const f = t.split_indices[i]!;
        if (f < 0 || f >= nFeatures) throw new ConvertError(`tree ${ti} node ${i}: feature ${f} out of range`);
        a.nodes_featureids.push(f); a.nodes_values.push(t.split_conditions[i]!); a.nodes_modes.push("BRANCH_LT");
        a.nodes_truenodeids.push(t.left_children[i]!); a.nodes_falsenodeids.push(t.right_children[i]!);
        a.nodes_missing_value_tracks_true.push(t.default_left[i] ? 1 : 0);
      }
    }
  });
  const ints = (v: number[]) => ({ kind: "ints" as const, v });
  const floats = (v: number[]) => ({ kind: "floats" as const, v });
  const onnx = encodeModel({
    irVersion: 8,
    opsets: [{ domain: "", version: 17 }, { domain: "ai.onnx.ml", version: 3 }],
    producerName: "xids",
    producerVersion: "1",
    docString,
    graph: {
      name: "xgboost_binary",
      inputs: [{ name: "input", elemType: TensorType.FLOAT, dims: ["N", nFeatures] }],
      outputs: [
        { name: "label", elemType: TensorType.INT64, dims: ["N"] },
        { name: "probabilities", elemType: TensorType.FLOAT, dims: ["N", 2] },
      ],
      nodes: [{
        opType: "TreeEnsembleClassifier", domain: "ai.onnx.ml", name: "trees",
        inputs: ["input"], outputs: ["label", "probabilities"],
        attributes: {
          base_values: floats([baseMargin]),
          class_ids: ints(a.class_ids), class_nodeids: ints(a.class_nodeids), class_treeids: ints(a.class_treeids),
          class_weights: floats(a.class_weights),
          classlabels_int64s: ints([0, 1]),
          nodes_falsenodeids: ints(a.nodes_falsenodeids), nodes_featureids: ints(a.nodes_featureids),
          nodes_missing_value_tracks_true: ints(a.nodes_missing_value_tracks_true),
          nodes_modes: { kind: "strings", v: a.nodes_modes },
          nodes_nodeids: ints(a.nodes_nodeids), nodes_treeids: ints(a.nodes_treeids),
          nodes_truenodeids: ints(a.nodes_truenodeids), nodes_values: floats(a.nodes_values),
          post_transform: { kind: "string", v: "LOGISTIC" },
        },
      }],
    },
  });
  return { onnx, nTrees: trees.length, nNodes: a.nodes_nodeids.length, baseMargin };
}
