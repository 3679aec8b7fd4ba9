// The alert log: one JSON object per line per detection, appended to its file, with the flow, the
// 22 features by name, the detector and what the inline responder did; its written counter is a
// metric of its own.
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { FlowRecord, Classification, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { FEATURE_NAMES } from "../../extractors/xdp/features.ts";
import { TempDir, startBuiltin, testServices } from "../../../test/core/util.ts";
import { parseExposition, valueOf } from "../../../test/observe/prom-parse.ts";
import { alertLog } from "./index.ts";

const detection = (id: string, action: string, detail = "", ttl = 0) =>
  Detection.create({
    id,
    timeUnixMs: Date.UTC(2026, 11, 1, 12, 0, 0),
    record: FlowRecord.create({ id: 42, family: 4, protocol: 6, endReason: 1, srcAddr: "198.18.0.9", srcPort: 40000, dstAddr: "198.18.0.1", dstPort: 22, features: FEATURE_NAMES.map((_, i) => i * 10) }),
    classification: Classification.create({ flowId: 42, verdict: Verdict.VERDICT_ATTACK, score: 0.93, label: "ATTACK", model: "dt:dt v3" }),
    detector: "dt",
    action,
    actionDetail: detail,
    blockTtlSeconds: ttl,
  });

describe("alert-log responder", () => {
  test("appends one EVE-style line per detection with the action and its detail; counts what it wrote", async () => {
    using dir = new TempDir();
    const path = dir.file("alerts.jsonl");
    const services = testServices();
    const api = await startBuiltin(alertLog(), { path }, "log", services);
    for (const d of [detection("d-1", "blocked", "", 300), detection("d-2", "allowed", "198.18.0.0/24"), detection("d-3", "failed", "map full"), detection("d-4", "alert")]) {
      expect((await api.handle(d)).accepted).toBe(true);
    }
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.action)).toEqual([{ type: "blocked", ttl_seconds: 300 }, { type: "allowed", allow: "198.18.0.0/24" }, { type: "failed", error: "map full" }, { type: "alert" }]);
    const first = lines[0]!;
    expect([first.timestamp, first.event_type, first.detection_id, first.src_ip, first.src_port, first.dest_ip, first.dest_port, first.proto]).toEqual([
      "2026-12-01T12:00:00.000Z", "alert", "d-1", "198.18.0.9", 40000, "198.18.0.1", 22, "TCP",
    ]);
    expect(first.alert).toEqual({ detector: "dt", model: "dt:dt v3", model_version: 3, label: "ATTACK", score: 0.93, verdict_source: "user-space" });
    expect(first.features[FEATURE_NAMES[3]!]).toBe(30);
    expect(first.flow.end_reason).toBe("fin");
    expect(valueOf(parseExposition(await services.metrics.text()), "xids_responder_written_total", { plugin: "log" })).toBe(4);
  });
});
