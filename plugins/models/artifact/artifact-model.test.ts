// The user-space artifact model: its answers are the models code's own predictions for the same
// feature rows, in input order; PushModel swaps the artifact and bumps the version; a record with
// the wrong number of features is an error, not a guess.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadArtifact, predictUserSpace, N_FEATURES } from "../../../models/index.ts";
import { FlowRecord, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { REPO, startBuiltin } from "../../../test/core/util.ts";
import { rng } from "../../../models/data/split.ts";
import { artifactModel, featureMatrix } from "./index.ts";
import { modelsArtifactLoader } from "./loader.ts";

const art = (name: string) => join(REPO, "models/artifacts", name);

describe("artifact model plugin", () => {
  test("answers as the models code predicts, in input order; update swaps the model", async () => {
    const api = await startBuiltin(artifactModel(), { artifact: art("dt") }, "dt");
    // Seeded rows over the features' usual ranges: small counts, ports, byte and µs totals.
    const r = rng(7);
    const rows = Array.from({ length: 200 }, () => Array.from({ length: N_FEATURES }, () => Math.floor(r() < 0.5 ? r() * 2_000 : r() * 2e6)));
    const recs = rows.map((features, i) => FlowRecord.create({ id: 100 + i, features }));
    const expected = await predictUserSpace(loadArtifact(art("dt")), featureMatrix(recs), recs.length);
    const got = await api.classify(recs);
    expect(got.map((c) => c.flowId)).toEqual(recs.map((r) => r.id));
    expect(new Set(got.map((c) => c.verdict)).size).toBe(2); // the rows reach both classes
    expect(got.map((c) => c.verdict)).toEqual([...expected.pred].map((p) => (p ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN)));
    expect(got.map((c) => c.score)).toEqual([...expected.score]);
    expect(got[0]!.model).toBe("dt:dt v1");

    expect(await api.update!(await modelsArtifactLoader.load(art("mlp-int32")))).toEqual({ model: "mlp-int32:mlp-int32", version: 2 });
    const mlp = await predictUserSpace(loadArtifact(art("mlp-int32")), featureMatrix(recs), recs.length);
    expect((await api.classify(recs)).map((c) => c.score)).toEqual([...mlp.score]);
    expect((await api.describe()).properties).toEqual({ model: "mlp-int32:mlp-int32", model_version: "2", artifact: art("mlp-int32") });
  });

  test("a record without the features the model reads is refused with its id", async () => {
    const api = await startBuiltin(artifactModel(), { artifact: art("dt") }, "dt");
    await expect(api.classify([FlowRecord.create({ id: 5, features: [1, 2, 3] })])).rejects.toThrow(`record 5 has 3 features; this model reads features up to 21 (of ${N_FEATURES})`);
    // The flow's own 22 are enough for a model trained on them (no source context needed).
    expect((await api.classify([FlowRecord.create({ id: 6, features: new Array(22).fill(1) })])).length).toBe(1);
  });

  test("a bad artifact fails the start with the folder and the reason", async () => {
    await expect(startBuiltin(artifactModel(), { artifact: join(REPO, "nope") }, "dt")).rejects.toThrow("folder does not exist");
  });
});
