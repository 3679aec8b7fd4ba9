// The alert log: one JSON object per line per detection, appended to its file, with the flow, the
// 22 features by name, the detector and what the inline responder did; its written counter is a
// metric of its own. Every line is Suricata EVE JSON: it validates against Suricata's schema
// extended by xids's own keys, and only by those.
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { FlowRecord, Classification, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { FEATURE_NAMES } from "../../extractors/xdp/features.ts";
import { TempDir, startBuiltin, testServices } from "../../../test/core/util.ts";
import { parseExposition, valueOf } from "../../../test/observe/prom-parse.ts";
import { checkSuricata, checkXidsAlert } from "../../../test/harness/eve-schema.ts";
import { alertEvent, alertLog } from "./index.ts";
import { SIGNATURE_ID_BASE, classify, flowId, signatureId } from "./suricata.ts";

const detection = (id: string, action: string, detail = "", ttl = 0) =>
  Detection.create({
    id,
    timeUnixMs: Date.UTC(2026, 11, 1, 12, 0, 0),
    record: FlowRecord.create({ id: 42, family: 4, protocol: 6, endReason: 1, srcAddr: "198.18.0.9", srcPort: 40000, dstAddr: "198.18.0.1", dstPort: 22, firstUs: 1_000, lastUs: 2_000, source: "eth0", features: FEATURE_NAMES.map((_, i) => i * 10) }),
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
    expect([first.timestamp, first.event_type, first.detection_id, first.in_iface, first.src_ip, first.src_port, first.dest_ip, first.dest_port, first.proto]).toEqual([
      "2026-12-01T12:00:00.000000+0000", "alert", "d-1", "eth0", "198.18.0.9", 40000, "198.18.0.1", 22, "TCP",
    ]);
    const sid = signatureId("ATTACK");
    expect(first.alert).toEqual({
      action: "blocked", gid: 1, signature_id: sid, rev: 3, signature: "xids dt:dt ATTACK", category: "Misc Attack", severity: 2,
      detector: "dt", model: "dt:dt v3", model_version: 3, label: "ATTACK", score: 0.93, verdict_source: "user-space",
    });
    // Suricata's alert.action: "blocked" only for the line whose source was blocked.
    expect(lines.map((l) => l.alert.action)).toEqual(["blocked", "allowed", "allowed", "allowed"]);
    expect(first.flow_id).toBe(flowId(detection("x", "alert").record!));
    expect(first.flow.record_id).toBe(42);
    expect(first.features[FEATURE_NAMES[3]!]).toBe(30);
    expect(first.flow.end_reason).toBe("fin");
    expect(valueOf(parseExposition(await services.metrics.text()), "xids_responder_written_total", { plugin: "log" })).toBe(4);
  });

  test("every line is Suricata EVE JSON: Suricata's schema plus xids's own keys, nothing else", () => {
    const actions: [string, string, number][] = [["blocked", "", 300], ["kernel-blocked", "", 300], ["allowed", "198.18.0.0/24", 0], ["failed", "map full", 0], ["refused", "own address", 0], ["not-yet", "1 of 2", 0], ["alert", "", 0], ["", "", 0]];
    for (const [action, detail, ttl] of actions) {
      const line = JSON.parse(JSON.stringify(alertEvent(detection(`d-${action}`, action, detail, ttl))));
      expect({ action, errors: checkXidsAlert(line) }).toEqual({ action, errors: [] });
      expect(line.alert.action).toBe(action === "blocked" || action === "kernel-blocked" ? "blocked" : "allowed");
      // Against Suricata's schema alone, what fails is exactly the keys xids adds.
      expect(checkSuricata(line).sort()).toEqual(
        ["/ must NOT have additional properties: detection_id", "/ must NOT have additional properties: in_iface", "/ must NOT have additional properties: features", "/ must NOT have additional properties: action",
          ...["detector", "model", "model_version", "label", "score", "verdict_source"].map((k) => `/alert must NOT have additional properties: ${k}`),
          ...["family", "protocol", "first_us", "last_us", "end_reason", "source", "record_id"].map((k) => `/flow must NOT have additional properties: ${k}`)].sort(),
      );
    }
    // IPv6 and ICMPv6: Suricata's protocol name, the same schema.
    const v6 = detection("d-v6", "alert");
    Object.assign(v6.record!, { family: 6, protocol: 58, srcAddr: "2001:2::9", dstAddr: "2001:2::1", srcPort: 0, dstPort: 0 });
    const line6 = JSON.parse(JSON.stringify(alertEvent(v6)));
    expect([line6.proto, checkXidsAlert(line6)]).toEqual(["IPv6-ICMP", []]);
  });

  test("the schema check fails what Suricata's tools would misread", () => {
    const good = () => JSON.parse(JSON.stringify(alertEvent(detection("d-1", "blocked", "", 300))));
    const bad = (f: (l: any) => void) => { const l = good(); f(l); return checkXidsAlert(l); };
    expect(bad((l) => (l.timestamp = "2026-12-01T12:00:00.000Z"))).toEqual(['/timestamp must match pattern "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d+[+\\-]\\d+$"']);
    expect(bad((l) => (l.src_port = "40000"))).toEqual(["/src_port must be integer"]);
    expect(bad((l) => (l.alert.action = "alert"))).toEqual(["/alert/action must be equal to one of the allowed values"]);
    expect(bad((l) => delete l.alert.signature_id)).toEqual(["/alert must have required property 'signature_id'"]);
    expect(bad((l) => (l.alert.severity = 4))).toEqual(["/alert/severity must be <= 3"]);
    expect(bad((l) => (l.flow.pkts = 3))).toEqual(["/flow must NOT have additional properties: pkts"]);
    expect(bad((l) => (l.app_layer = "x"))).toEqual(["/ must NOT have additional properties: app_layer"]);
  });

  test("signature ids, categories and severities by attack class; flow ids by flow", () => {
    const classes = ["PortScan", "DDoS", "DoS Hulk", "DoS-SYNFlood", "SSH-Patator", "FTP-Patator", "Web Attack - XSS", "Web Attack - SQL Injection", "Bot", "Infiltration", "Heartbleed", "ATTACK"];
    const sids = classes.map(signatureId);
    expect(new Set(sids).size).toBe(classes.length);
    for (const sid of sids) expect(sid >= SIGNATURE_ID_BASE && sid < SIGNATURE_ID_BASE + 100_000).toBe(true);
    expect(signatureId("PortScan")).toBe(signatureId("PortScan"));
    expect(classes.map((c) => [c, classify(c).severity, classify(c).category])).toEqual([
      ["PortScan", 3, "Detection of a Network Scan"],
      ["DDoS", 2, "Attempted Denial of Service"],
      ["DoS Hulk", 2, "Attempted Denial of Service"],
      ["DoS-SYNFlood", 2, "Attempted Denial of Service"],
      ["SSH-Patator", 1, "Attempted User Privilege Gain"],
      ["FTP-Patator", 1, "Attempted User Privilege Gain"],
      ["Web Attack - XSS", 1, "Web Application Attack"],
      ["Web Attack - SQL Injection", 1, "Web Application Attack"],
      ["Bot", 1, "A Network Trojan was detected"],
      ["Infiltration", 1, "A Network Trojan was detected"],
      ["Heartbleed", 2, "Attempted Information Leak"],
      ["ATTACK", 2, "Misc Attack"],
    ]);
    const r = detection("d", "alert").record!;
    const other = (patch: Partial<typeof r>) => flowId({ ...r, ...patch });
    expect(flowId({ ...r, id: 7, lastUs: 9_999 })).toBe(flowId(r)); // the record id and the end do not name the flow
    const ids = [flowId(r), other({ srcPort: 40001 }), other({ dstAddr: "198.18.0.2" }), other({ firstUs: 1_001 }), other({ source: "eth1" }), other({ protocol: 17 })];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
  });
});
