import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OnnxBackend } from "./backend.ts";
import { PbWriter } from "./protobuf.ts";
import { ConvertError, xgbJsonToOnnx, type XgbJson } from "./xgb2onnx.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-onnx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("protobuf varints, negative int64 and floats follow the wire format", () => {
  expect(Array.from(new PbWriter().varint(300).finish())).toEqual([0xac, 0x02]);
  expect(Array.from(new PbWriter().varint(-1).finish())).toEqual([...Array(9).fill(0xff), 0x01]);
  expect(Array.from(new PbWriter().int(1, 8).finish())).toEqual([0x08, 0x08]);
  expect(Array.from(new PbWriter().string(2, "ab").finish())).toEqual([0x12, 0x02, 0x61, 0x62]);
  expect(Array.from(new PbWriter().float(2, 1).finish())).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
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
