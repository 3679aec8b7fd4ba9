import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OnnxBackend } from "./backend.ts";
import { encodeModel, TensorType, type ModelSpec } from "./model.ts";
import { ConvertError, xgbJsonToOnnx, type XgbJson } from "./xgb2onnx.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-onnx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("ONNX messages: every attribute kind, symbolic and fixed dims, packed tensors, negative int64", () => {
  const spec: ModelSpec = {
    irVersion: 8, opsets: [{ domain: "", version: 17 }, { domain: "ai.onnx.ml", version: 3 }], producerName: "xids", producerVersion: "1", docString: "d",
    graph: {
      name: "g",
      nodes: [{
        opType: "TreeEnsembleClassifier", domain: "ai.onnx.ml", name: "n", inputs: ["x"], outputs: ["y", "p"],
        attributes: { f: { kind: "float", v: 0.5 }, i: { kind: "int", v: -3 }, s: { kind: "string", v: "LEAF" }, fs: { kind: "floats", v: [1, -2.5] }, is: { kind: "ints", v: [0, 7, -1] }, ss: { kind: "strings", v: ["a", "b"] } },
      }],
      inputs: [{ name: "x", elemType: TensorType.FLOAT, dims: ["N", 4] }],
      outputs: [{ name: "y", elemType: TensorType.INT64, dims: ["N"] }],
      initializers: [{ name: "t", dataType: TensorType.FLOAT, dims: [2], floats: [1.5, -1] }, { name: "u", dataType: TensorType.INT64, dims: [2], int64s: [5, -6] }],
    },
  };
  // The bytes the earlier hand-written encoder produced for the same model (the shipped model.onnx
  // was written by it): switching to the library changed no byte.
  expect(Buffer.from(encodeModel(spec)).toString("hex")).toBe(
    "08081204786964731a01313201643aef010a98010a01781201791201701a016e221654726565456e73656d626c65436c61737369666965722a0b0a0166150000003fa001012a110a016918fdffffffffffffffff01a001022a0c0a017322044c454146a001032a110a0266733d0000803f3d000020c0a001062a160a0269734000400740ffffffffffffffffff01a001072a0d0a0273734a01614a0162a001083a0a61692e6f6e6e782e6d6c1201672a110802100122080000c03f000080bf4201742a14080210073a0b05faffffffffffffffff014201755a140a0178120f0a0d080112090a0312014e0a02080462100a0179120b0a09080712050a0312014e42040a001011420e0a0a61692e6f6e6e782e6d6c1003",
  );
});

// Two stumps, hand-written in XGBoost's JSON layout:
// tree 0: x0 < 10 ? +1 : -1;  tree 1: x1 < 0.5 ? -0.5 : (x0 < 3 ? 2 : 0.25). base_score 0.5 (margin 0).
const model: XgbJson = {
  learner: {
    learner_model_param: { base_score: "5E-1", num_feature: "2", num_class: "0" },
    objective: { name: "binary:logistic" },
    gradient_booster: {
      name: "gbtree",
      model: {
        trees: [
          { left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [0, 0, 0], split_conditions: [10, 1, -1], default_left: [1, 0, 0] },
          { left_children: [1, -1, 3, -1, -1], right_children: [2, -1, 4, -1, -1], split_indices: [1, 0, 0, 0, 0], split_conditions: [0.5, -0.5, 3, 2, 0.25], default_left: [0, 0, 0, 0, 0] },
        ],
      },
    },
  },
};
const sigmoid = (m: number) => 1 / (1 + Math.exp(-m));
function margin(x0: number, x1: number): number {
  return (x0 < 10 ? 1 : -1) + (x1 < 0.5 ? -0.5 : x0 < 3 ? 2 : 0.25);
}

test("converted model runs in ONNX Runtime and reproduces the trees (x < t goes left)", async () => {
  const c = xgbJsonToOnnx(model, 2);
  expect(c.nTrees).toBe(2);
  expect(c.nNodes).toBe(8);
  const path = join(dir, "m.onnx");
  writeFileSync(path, c.onnx);
  using be = await OnnxBackend.load(path, 2);
  const rows = [[0, 0], [10, 0], [9.99, 1], [2, 1], [3, 1], [20, 0.5], [11, 0.49]];
  const out = await be.score(Float32Array.from(rows.flat()), rows.length);
  rows.forEach(([a, b], i) => {
    const p = sigmoid(margin(a!, b!));
    expect(out.prob[i]!).toBeCloseTo(p, 6);
    expect(out.label[i]).toBe(p > 0.5 ? 1 : 0);
  });
});

test("a base_score other than 0.5 becomes the logit base value", async () => {
  const m = structuredClone(model);
  m.learner.learner_model_param.base_score = "0.2";
  const path = join(dir, "b.onnx");
  writeFileSync(path, xgbJsonToOnnx(m, 2).onnx);
  using be = await OnnxBackend.load(path, 2);
  const out = await be.score(Float32Array.from([0, 0]), 1);
  expect(out.prob[0]!).toBeCloseTo(sigmoid(Math.log(0.25) + margin(0, 0)), 6);
});

test("unsupported models are refused with the reason", () => {
  const m = structuredClone(model);
  m.learner.objective.name = "multi:softprob";
  expect(() => xgbJsonToOnnx(m, 2)).toThrow(new ConvertError("unsupported objective 'multi:softprob' (need binary:logistic)"));
  expect(() => xgbJsonToOnnx(model, 3)).toThrow("model has 2 features, expected 3");
});

test("the backend checks batch shape", async () => {
  const path = join(dir, "c.onnx");
  writeFileSync(path, xgbJsonToOnnx(model, 2).onnx);
  using be = await OnnxBackend.load(path, 2);
  await expect(be.score(new Float32Array(3), 2)).rejects.toThrow("batch has 3 values, expected 2 x 2");
});
