// The artifact plugin on the shipped xgb artifact with each backend: real data-set rows as flow
// records give the verdicts and scores of the models code's own ORT prediction (the oracle), the
// same with `backend: compiled` and `backend: onnx`; concurrent batches on the reused buffers each
// get their own answers; a bad backend value is a config error that names the key.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadArtifact, loadCsv, predictUserSpace, rowsOf, N_FEATURES } from "../../../models/index.ts";
import { FlowRecord, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { parseConfigText } from "../../../core/config/load.ts";
import { formatIssue } from "../../../core/config/schema.ts";
import { REPO, startBuiltin } from "../../../test/core/util.ts";
import { sharedPath } from "../../../test/harness/paths.ts";
import { artifactModel } from "./index.ts";

const XGB = join(REPO, "models/artifacts/xgb");
const DATA = sharedPath("datasets/cic-ids-2017-improved", "the xgb artifact plugin on data-set rows");

describe.skipIf(DATA === null)("artifact plugin, xgb", () => {
  // Every 11th row of the data set (3,948 rows, every class), as the records an extractor sends.
  const data = DATA === null ? null : rowsOf(loadCsv(DATA));
  const n = data ? Math.floor(data.n / 11) : 0;
  const x = new Float64Array(n * N_FEATURES);
  for (let i = 0; i < n; i++) x.set(data!.x.subarray(i * 11 * N_FEATURES, (i * 11 + 1) * N_FEATURES), i * N_FEATURES);
  const records = Array.from({ length: n }, (_, i) => FlowRecord.create({ id: 1000 + i, features: Array.from(x.subarray(i * N_FEATURES, (i + 1) * N_FEATURES)) }));

  test.each(["compiled", "onnx"])("backend %s: the ORT oracle's verdicts and scores on every record", async (backend) => {
    const oracle = await predictUserSpace(loadArtifact(XGB), x, n);
    const api = await startBuiltin(artifactModel(), { artifact: XGB, backend }, "xgb");
    const got = await api.classify(records);
    expect(got.map((c) => c.flowId)).toEqual(records.map((r) => r.id));
    expect(got.map((c) => c.verdict)).toEqual([...oracle.pred].map((p) => (p ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN)));
    expect(got.map((c) => c.score)).toEqual([...oracle.score]);
    const attacks = got.filter((c) => c.verdict === Verdict.VERDICT_ATTACK).length;
    expect(attacks).toBeGreaterThan(0);
    expect(attacks).toBeLessThan(n);
    expect((await api.describe()).properties).toMatchObject({ backend, model: "xgb:xgb" });
  });

  test("concurrent batches of different sizes on one backend each get their own rows' answers", async () => {
    const api = await startBuiltin(artifactModel(), { artifact: XGB, backend: "onnx" }, "xgb");
    const whole = await api.classify(records);
    const parts = [[0, 900], [900, 901], [901, 2500], [2500, n]] as const;
    const got = await Promise.all(parts.map(([a, b]) => api.classify(records.slice(a, b))));
    expect(got.flat().map((c) => [c.flowId, c.score])).toEqual(whole.map((c) => [c.flowId, c.score]));
  });

  test("a record without the features the model reads is refused with its id", async () => {
    const api = await startBuiltin(artifactModel(), { artifact: XGB }, "xgb");
    await expect(api.classify([records[0]!, FlowRecord.create({ id: 7, features: [1, 2] })])).rejects.toThrow("record 7 has 2 features");
  });
});

test("a bad backend value is a config error naming the key and the choices", () => {
  const yaml = `plugins:\n  - { id: xgb, kind: model, builtin: artifact, config: { artifact: models/artifacts/xgb, backend: fast } }\n`;
  // The config checker with this plugin as the only built-in (plugins/index.ts would close an
  // import cycle through the plugin folders).
  const reg = artifactModel();
  const r = parseConfigText(yaml, { get: (name) => (name === reg.name ? reg : undefined), names: () => [reg.name] });
  if (r.ok) throw new Error("backend: fast was accepted");
  const lines = r.issues.map((i) => formatIssue(i));
  expect(lines.some((l) => l.includes("backend") && l.includes(`one of "onnx", "compiled"`) && l.includes("fast")), lines.join("\n")).toBe(true);
});
