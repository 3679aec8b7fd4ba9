// ShadowRun's bookkeeping with a real artifact (the shipped matrix MLP, which reads the source
// context and the acknowledged bytes, features 22..36): a record without them fails alone with
// the reason while the rest of its batch is judged by the reference; a full queue skips and
// counts; every verdict lands in exactly one bin.
import { expect, test } from "bun:test";
import { SHIPPED_MLP } from "../../../core/config/config.ts";
import { NUM_FEATURES } from "../../../core/ebpf/abi.ts";
import { predictUserSpace, type Model } from "../../../models/index.ts";
import { Classification, FlowRecord, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import type { ShadowSummary } from "../../../proto/gen/xids/control/v1/control.ts";
import { sampleRecords } from "../../../test/conformance/conformance.ts";
import { featureMatrix } from "../artifact/index.ts";
import { modelsArtifactLoader } from "../artifact/loader.ts";
import { LIMITS, ShadowRun } from "./shadow-run.ts";

const BLOCK = { min_attacks: 3, min_attack_pct: 50, window_seconds: 30 }; // pipeline.block's defaults
const benign = (r: FlowRecord) => Classification.create({ flowId: r.id, verdict: Verdict.VERDICT_BENIGN, model: "test" });
const withAllFeatures = (r: FlowRecord, id: number) => FlowRecord.create({ ...r, id, features: [...r.features, ...new Array(NUM_FEATURES - r.features.length).fill(1)] });
const bins = (s: ShadowSummary) => s.bothAttack + s.bothBenign + s.onlyActive + s.onlyCandidate + s.failed + s.skipped + s.pending;

test("a record lacking the features the candidate reads fails alone; the others are judged by the reference", async () => {
  const artifact = await modelsArtifactLoader.load(SHIPPED_MLP);
  const run = new ShadowRun(artifact, "digest", "test", BLOCK);
  const short = sampleRecords(1);
  const full = short.map((r, i) => withAllFeatures(r, 100 + i));
  for (const r of [...short, ...full]) run.observe(r, benign(r), "test");
  await run.settle(5_000);
  const s = run.summary(0);
  const model = artifact.loaded as Model;
  const ref = await predictUserSpace(model, featureMatrix(full, model.features), full.length);
  const attacks = [...ref.pred].filter((p) => p === 1).length;
  expect([s.flowsSeen, s.failed, s.pending, s.skipped]).toEqual([short.length + full.length, short.length, 0, 0]);
  expect([s.onlyCandidate, s.bothBenign]).toEqual([attacks, full.length - attacks]);
  expect(s.lastError).toContain(`has 22 features; this model reads features up to`);
  expect(s.differing.map((d) => d.record!.id)).toEqual(full.filter((_, i) => ref.pred[i] === 1).map((r) => r.id));
  expect(bins(s)).toBe(s.flowsSeen);
});

test("a full queue skips and counts; a closed run judges nothing more", async () => {
  const artifact = await modelsArtifactLoader.load(SHIPPED_MLP);
  const run = new ShadowRun(artifact, "digest", "test", BLOCK);
  const base = withAllFeatures(sampleRecords(1)[0]!, 1);
  const n = LIMITS.queue + 2 * LIMITS.batch;
  for (let i = 0; i < n; i++) run.observe({ ...base, id: i }, benign(base), "test");
  await run.settle(20_000);
  const s = run.summary(0);
  expect(s.flowsSeen).toBe(n);
  expect(s.skipped).toBeGreaterThan(0);
  expect([s.pending, bins(s)]).toEqual([0, n]);
  run.close();
  run.observe(base, benign(base), "test");
  expect(run.summary(0).flowsSeen).toBe(n);
  expect(run.summary(0).running).toBe(false);
});
