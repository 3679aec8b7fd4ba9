// The alert log's explanations without a kernel: the shipped artifacts on disk (an int32 MLP with its
// baseline, one without, a decision tree) behind the model service. A line that gets no explanation
// says why (rate cap, not an int32 MLP, no baseline, no artifact named, another model version), is
// counted, and still validates; the rate cap allows max_per_second a second and no more.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FlowRecord, Classification, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { SHIPPED_MLP } from "../../../core/config/config.ts";
import { coreServices, type ModelInUse } from "../../../core/plugin-api/services.ts";
import { artifactBaseline } from "../../../models/explain/baseline.ts";
import { REPO, TempDir, startBuiltin, testServices } from "../../../test/core/util.ts";
import { checkXidsAlert } from "../../../test/harness/eve-schema.ts";
import { parseExposition, valueOf } from "../../../test/observe/prom-parse.ts";
import { AlertExplainer } from "./explain.ts";
import { alertLog } from "./index.ts";

const MLP_NO_BASELINE = join(REPO, "models/artifacts/mlp-int32");
const DT = join(REPO, "models/artifacts/dt");

/** A benign-looking row with a few features moved: the baseline row of the shipped MLP, changed. */
const row = () => {
  const v = [...artifactBaseline(SHIPPED_MLP).values];
  v[22] = 1054; // Src Flows 10s
  v[0] = 443; // Dst Port
  return v;
};

const detection = (id: string, version = 1) =>
  Detection.create({
    id,
    timeUnixMs: Date.UTC(2026, 11, 1, 12, 0, 0),
    record: FlowRecord.create({ id: 7, family: 4, protocol: 6, srcAddr: "198.18.0.9", srcPort: 40000, dstAddr: "198.18.0.1", dstPort: 443, source: "eth0", features: row() }),
    classification: Classification.create({ flowId: 7, verdict: Verdict.VERDICT_ATTACK, score: 1, label: "ATTACK", model: `mlp v${version}` }),
    detector: "m",
    action: "alert",
  });

/** The model service of a core whose model plugin "m" runs `artifact` as version 1. */
const modelService = (artifact: string): ModelInUse => ({
  current: (plugin?: string) => ({ target: plugin ?? "m", model: "mlp", version: plugin === "m" ? 1 : 0, artifact: plugin === "m" ? artifact : "" }),
  push: async () => Promise.reject(new Error("not in this test")),
});

async function linesFor(artifact: string, detections: Detection[], explain: object = { top: 3, permutations: 16, max_per_second: 10 }) {
  using dir = new TempDir();
  const path = dir.file("alerts.jsonl");
  const base = testServices();
  const model = modelService(artifact);
  const services = Object.assign((id: string, plugin: string) => (id === coreServices.model.id ? model : base(id, plugin)), { metrics: base.metrics });
  const api = await startBuiltin(alertLog(), { path, explain }, "log", services);
  for (const d of detections) await api.handle(d);
  const lines = (await Bun.file(path).text()).trimEnd().split("\n").map((l) => JSON.parse(l));
  const m = parseExposition(await base.metrics.text());
  return { lines, explained: valueOf(m, "xids_responder_explained_total", { plugin: "log" }), skipped: valueOf(m, "xids_responder_explain_skipped_total", { plugin: "log" }) };
}

describe("alert-log explanations", () => {
  test("an int32 MLP with its baseline: top features, the method, and the rest, summing to score minus baseline", async () => {
    // `explain: {}`: the defaults, top 3 and 16 permutations.
    const { lines, explained, skipped } = await linesFor(SHIPPED_MLP, [detection("d-1")], {});
    const x = lines[0].explanation;
    expect([x.method, x.permutations, x.top.length, explained, skipped]).toEqual(["shapley-permutation", 16, 3, 1, 0]);
    expect(Math.abs(x.top.reduce((s: number, f: { contribution: number }) => s + f.contribution, 0) + x.others - (x.score - x.baseline_score))).toBeLessThan(1e-6);
    // A user-space verdict: explained is the MLP's reference score, and the line says so.
    expect(x.note).toBe("the verdict came from mlp v1; explained is its int32 MLP's reference score");
    expect(checkXidsAlert(lines[0])).toEqual([]);
  });

  test("no explanation, and why: not an int32 MLP, no baseline, no artifact named, another model version", async () => {
    const cases: [string, Detection, string][] = [
      [DT, detection("d-dt"), `${DT} is a dt model; contributions are computed for int32 MLPs (mlp-int32) only`],
      [MLP_NO_BASELINE, detection("d-nb"), `${join(MLP_NO_BASELINE, "baseline.json")}: no such baseline file`],
      ["", detection("d-none"), 'model plugin "m" names no artifact folder to explain its score with'],
      [SHIPPED_MLP, detection("d-old", 2), `scored by m version 2; it now runs version 1 (${SHIPPED_MLP})`],
    ];
    for (const [artifact, d, why] of cases) {
      const { lines, explained, skipped } = await linesFor(artifact, [d]);
      expect({ id: d.id, why: lines[0].explanation.skipped, explained, skipped }).toEqual({ id: d.id, why: expect.stringContaining(why), explained: 0, skipped: 1 });
      expect(checkXidsAlert(lines[0])).toEqual([]);
    }
  });

  test("the rate cap: max_per_second explanations a second, the rest say so and are counted", async () => {
    const { lines, explained, skipped } = await linesFor(SHIPPED_MLP, ["a", "b", "c", "d", "e"].map((id) => detection(id)), { top: 2, permutations: 4, max_per_second: 2 });
    expect(lines.map((l) => ("skipped" in l.explanation ? "skipped" : l.explanation.top.length))).toEqual([2, 2, "skipped", "skipped", "skipped"]);
    expect(lines[2].explanation.skipped).toBe("rate cap: 2 explanations in this second already (explain.max_per_second)");
    expect([explained, skipped]).toEqual([2, 3]);
    // The window is one second: on a clock, the next second explains again.
    let now = 10_000;
    const tally = { explained: 0, skipped: 0 };
    const x = new AlertExplainer({ top: 1, permutations: 2, max_per_second: 1 }, modelService(SHIPPED_MLP), { explained: () => tally.explained++, skipped: () => tally.skipped++ }, () => now);
    const got = () => ("skipped" in x.explain(detection("t")) ? "skipped" : "explained");
    expect([got(), got()]).toEqual(["explained", "skipped"]);
    now += 999;
    expect(got()).toBe("skipped");
    now += 1;
    expect([got(), got()]).toEqual(["explained", "skipped"]);
    expect(tally).toEqual({ explained: 2, skipped: 3 });
  });

  test("bad settings are refused at start with the key", async () => {
    await expect(startBuiltin(alertLog(), { path: "-", explain: { top: 0 } })).rejects.toThrow("explain.top");
    await expect(startBuiltin(alertLog(), { path: "-", explain: { permutations: 1 } })).rejects.toThrow("explain.permutations");
    await expect(startBuiltin(alertLog(), { path: "-", explain: { max_per_second: 0 } })).rejects.toThrow("explain.max_per_second");
    await expect(startBuiltin(alertLog(), { path: "-", explain: { topp: 3 } })).rejects.toThrow("explain.topp");
  });
});
