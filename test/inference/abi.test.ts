// plugins/models/kernel/abi.ts against the classifier part of bpf/xids.h, and against the loaded maps.
import { expect, test } from "bun:test";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import * as abi from "../../plugins/models/kernel/abi.ts";
import { cLayout, tsLayout } from "../harness/c-layout.ts";

const STRUCTS = [abi.ModelIndex, abi.ModelMeta, abi.MlpLayer, abi.DtNode, abi.GbtNode, abi.InferState, abi.EvalIo];

test("struct layouts and constants match xids.h", () => {
  const consts: Record<string, number> = {
    XIDS_MODEL_SLOTS: abi.MODEL_SLOTS, XIDS_MLP_MAX_INPUTS: abi.MLP_MAX_INPUTS, XIDS_MLP_MAX_WIDTH: abi.MLP_MAX_WIDTH,
    XIDS_MLP_MAX_LAYERS: abi.MLP_MAX_LAYERS, XIDS_DT_MAX_NODES: abi.DT_MAX_NODES, XIDS_MAX_PENDING: abi.MAX_PENDING,
    XIDS_NUM_FEATURES: abi.NUM_FEATURES, XIDS_EVAL_ACTIVE_SLOT: abi.EVAL_ACTIVE_SLOT,
    XIDS_MODEL_NONE: abi.ModelKind.NONE, XIDS_MODEL_MLP: abi.ModelKind.MLP, XIDS_MODEL_DT: abi.ModelKind.DT, XIDS_MODEL_GBT: abi.ModelKind.GBT,
    XIDS_GBT_MAX_NODES: abi.GBT_MAX_NODES, XIDS_GBT_MAX_STEPS: abi.GBT_MAX_STEPS, XIDS_GBT_END: abi.GBT_END,
    XIDS_STAGE_ENTRY: abi.Stage.ENTRY, XIDS_STAGE_LAYER: abi.Stage.LAYER,
    XIDS_ACTION_ALERT: abi.ModelAction.ALERT, XIDS_ACTION_BLOCK: abi.ModelAction.BLOCK,
    XIDS_VERDICT_NONE: abi.Verdict.NONE, XIDS_VERDICT_BENIGN: abi.Verdict.BENIGN, XIDS_VERDICT_ATTACK: abi.Verdict.ATTACK,
  };
  const c = cLayout(STRUCTS, consts && Object.fromEntries(Object.keys(consts).map((k) => [k, k])));
  const ts = { ...tsLayout(STRUCTS), ...consts };
  expect(ts).toEqual(c);
});

test("the loaded classifier maps have the codecs' sizes", () => {
  using dp = DataPlane.load();
  const sizes = (name: string) => [dp.coll.map(name).valueSize, dp.coll.map(name).maxEntries];
  expect(sizes(abi.CLASSIFIER_MAPS.meta)).toEqual([abi.ModelMeta.size, abi.MODEL_SLOTS]);
  expect(sizes(abi.CLASSIFIER_MAPS.layers)).toEqual([abi.MlpLayer.size, abi.MODEL_SLOTS * abi.MLP_MAX_LAYERS]);
  expect(sizes(abi.CLASSIFIER_MAPS.nodes)).toEqual([abi.DtNode.size, abi.MODEL_SLOTS * abi.DT_MAX_NODES]);
  // struct xids_gbt_slot: the 24-byte header, then XIDS_GBT_MAX_NODES nodes (slot-image.ts encodes it by hand).
  expect(sizes(abi.CLASSIFIER_MAPS.gbt)).toEqual([abi.GbtSlotLayout.size, abi.MODEL_SLOTS]);
  expect(sizes(abi.CLASSIFIER_MAPS.state)).toEqual([abi.InferState.size, 1]);
  expect(sizes(abi.CLASSIFIER_MAPS.index)).toEqual([abi.ModelIndex.size, 1]);
});
