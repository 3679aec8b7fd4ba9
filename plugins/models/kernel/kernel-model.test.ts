// The kernel model plugin on a real XDP object: it loads its artifact into a parameter slot at
// start (checked in the kernel), reports the in-kernel verdicts and abstains where the kernel gave
// none, hot-updates through the slots, refuses kinds the kernel cannot run, and without an
// attached data plane only records what it is given.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DataPlane } from "../../../core/ebpf/dataplane.ts";
import { MemoryDataPlane } from "../../../core/ebpf/memory-dataplane.ts";
import type { DataPlanePort } from "../../../core/plugin-api/services.ts";
import { FlowRecord, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { REPO, startBuiltin, testDataplaneSettings, testServices } from "../../../test/core/util.ts";
import { modelsArtifactLoader } from "../artifact/loader.ts";
import { evalFeatures } from "./eval.ts";
import { kernelModel } from "./index.ts";
import { probeVectors } from "./probes.ts";

const art = (name: string) => join(REPO, "models/artifacts", name);

function portFor(dp: DataPlane): DataPlanePort {
  return Object.assign(Object.create(new MemoryDataPlane(testDataplaneSettings())) as DataPlanePort, { kernel: dp, xdpMode: "native" });
}

describe("kernel model plugin", () => {
  test("loads its artifact into the kernel, echoes kernel verdicts, hot-updates, refuses what the kernel cannot run", async () => {
    using dp = DataPlane.load({ modelAction: "alert" });
    const api = await startBuiltin(kernelModel(), { artifact: art("mlp-int32") }, "kernel-mlp", testServices(portFor(dp)));
    expect((await api.describe()).properties).toEqual({ model: "mlp-int32:mlp-int32", model_version: "1", hot_update: "kernel", artifact: art("mlp-int32") });
    // The slot really holds the model: the kernel classifies probe vectors with version 1.
    const [first] = evalFeatures(dp.coll, probeVectors(1));
    expect([first!.classified, first!.version]).toEqual([true, 1]);

    const recs = [
      FlowRecord.create({ id: 7, kernelVerdict: Verdict.VERDICT_ATTACK, kernelScore: 900, modelVersion: 1 }),
      FlowRecord.create({ id: 8, kernelVerdict: Verdict.VERDICT_BENIGN, kernelScore: -5, modelVersion: 1 }),
      FlowRecord.create({ id: 9, kernelVerdict: Verdict.VERDICT_NONE }),
    ];
    expect((await api.classify(recs)).map((c) => [c.flowId, c.verdict, c.score, c.label, c.model])).toEqual([
      [7, Verdict.VERDICT_ATTACK, 900, "ATTACK", "kernel-mlp v1"],
      [8, Verdict.VERDICT_BENIGN, -5, "BENIGN", "kernel-mlp v1"],
      [9, Verdict.VERDICT_NONE, 0, "", ""],
    ]);

    const dt = await modelsArtifactLoader.load(art("dt"));
    expect(await api.update!(dt)).toEqual({ model: "dt:dt", version: 2 });
    expect(evalFeatures(dp.coll, probeVectors(1))[0]!.version).toBe(2);
    const xgb = await modelsArtifactLoader.load(art("xgb"));
    await expect(api.update!(xgb)).rejects.toThrow(`the kernel runs mlp-int32, dt or gbt artifacts, ${art("xgb")} is xgb`);
    expect(evalFeatures(dp.coll, probeVectors(1))[0]!.version).toBe(2);
  });

  test("an artifact the kernel cannot run fails the start with the reason", async () => {
    using dp = DataPlane.load({ modelAction: "alert" });
    await expect(startBuiltin(kernelModel(), { artifact: art("xgb") }, "k", testServices(portFor(dp)))).rejects.toThrow("the kernel runs mlp-int32, dt or gbt artifacts");
  });

  test("without an attached data plane: artifacts are checked and recorded only, and Describe says so", async () => {
    const api = await startBuiltin(kernelModel(), { artifact: art("dt") }, "k");
    expect((await api.describe()).properties).toEqual({ model: "dt:dt", model_version: "1", hot_update: "recorded-only", artifact: art("dt") });
  });
});
