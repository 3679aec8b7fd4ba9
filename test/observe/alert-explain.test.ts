// The alert line says why: a real agent (XDP on a veth in a test namespace, the shipped int32 MLP in
// the kernel, the default block policy) detects a real nmap SYN scan, and the alert-log responder,
// with `explain` on, writes each detection's top features by Shapley contribution to the kernel's
// own score. Each line validates against Suricata's EVE schema plus xids's keys; its top features
// and the rest sum to the score minus the baseline's score; the score is the kernel's, recomputed
// by the reference from the line's features; and the same models/explain code run here on those
// features gives the same numbers.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { twoHosts } from "../harness/netns.ts";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { SHIPPED_MLP } from "../../core/config/config.ts";
import { loadArtifact, type MlpModel } from "../../models/artifact/load.ts";
import { artifactBaseline } from "../../models/explain/baseline.ts";
import { explainFlow, referenceScore } from "../../models/explain/explain-flow.ts";
import { FEATURE_NAMES } from "../../plugins/extractors/xdp/features.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { TempDir, quietLog, waitFor } from "../core/util.ts";
import { checkXidsAlert } from "../harness/eve-schema.ts";
import { parseExposition, valueOf } from "./prom-parse.ts";

/** A bounded SYN scan: timeout(1) and --host-timeout cap it. */
const nmap = (server: string) => ["timeout", "20", "nmap", "-sS", "-Pn", "-n", "-T4", "--max-retries", "1", "--max-rate", "500", "--host-timeout", "18s", "-p", "1-1500", server];

describe("explanations in the alert log", () => {
  test("a real scan's alert lines carry the top features by contribution to the kernel's score; they validate and sum to score minus baseline", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    const alerts = dir.file("alerts.jsonl");
    const r = checkConfig(
      {
        dataplane: { interfaces: ["eth0"], netns: hosts.server.name, state_dir: dir.file("state") },
        pipeline: { models: ["kernel-mlp"], responders: ["xdp-drop", "log"] },
        plugins: [
          { id: "xdp", kind: "extractor", builtin: "xdp" },
          { id: "kernel-mlp", kind: "model", builtin: "kernel", config: { artifact: SHIPPED_MLP } },
          { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
          { id: "log", kind: "responder", builtin: "alert-log", config: { path: alerts, explain: { top: 3, permutations: 16, max_per_second: 10_000 } } },
        ],
        control: { socket: dir.file("ctl.sock") },
      },
      builtinCatalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const agent = await Agent.start(r.config, { ...builtins, log: quietLog, catalog: builtinCatalog });
    let lines: string[];
    let metrics: string;
    const scan = hosts.client.spawn(nmap(hosts.serverIp));
    try {
      await waitFor(`${hosts.clientIp} blocked`, () => agent.dataplane.listBlocked().some((h) => h.address === hosts.clientIp), 20_000, 50);
      scan.kill("SIGTERM"); // the rest of it would only be dropped
      await scan.exited;
      await agent.whenIdle();
      await waitFor("one alert line per detection", () => existsSync(alerts) && readFileSync(alerts, "utf8").trim().split("\n").length === agent.counters.detections, 5_000);
      lines = readFileSync(alerts, "utf8").trim().split("\n");
      metrics = await agent.metricsRegistry.text();
    } finally {
      scan.kill("SIGTERM");
      await scan.exited;
      await agent.stop();
    }

    const model = loadArtifact(SHIPPED_MLP) as MlpModel;
    const baseline = artifactBaseline(SHIPPED_MLP);
    const baselineScore = referenceScore(model, baseline.values);
    const events = lines.map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const e of events) {
      expect({ line: e.detection_id, errors: checkXidsAlert(e) }).toEqual({ line: e.detection_id, errors: [] });
      expect(e.alert).toMatchObject({ detector: "kernel-mlp", verdict_source: "kernel", model_version: 1 });
      const x = e.explanation;
      expect(x).toMatchObject({ method: "shapley-permutation", permutations: 16, baseline_score: baselineScore });
      expect(x.note).toBeUndefined();
      // The explained score is the kernel's: the reference recomputes it from the line's features.
      const row = FEATURE_NAMES.map((n) => e.features[n] as number);
      expect(x.score).toBe(e.alert.score);
      expect(referenceScore(model, row)).toBe(e.alert.score);
      // Top 3 by |contribution|, named with the flow's values; with the rest, exactly score - baseline.
      expect(x.top.length).toBe(3);
      for (const f of x.top) expect(f.value).toBe(e.features[f.name]);
      const sum = x.top.reduce((s: number, f: { contribution: number }) => s + f.contribution, 0) + x.others;
      expect(Math.abs(sum - (x.score - x.baseline_score))).toBeLessThan(1e-6);
      expect(x.score - x.baseline_score).not.toBe(0);
      // The same code on the same features gives the same explanation (seeded permutations).
      const again = explainFlow(model, baseline, row, 16);
      expect(x.top).toEqual(again.features.slice(0, 3).map((f) => ({ name: f.name, value: f.value, contribution: f.contribution })));
    }
    console.log(`${events.length} alert lines; first: ${JSON.stringify(events[0].explanation)}`);
    const m = parseExposition(metrics);
    expect(valueOf(m, "xids_responder_explained_total", { plugin: "log" })).toBe(events.length);
    expect(valueOf(m, "xids_responder_explain_skipped_total", { plugin: "log" })).toBe(0);
  }, 90_000);
});
