// The alert log read by Suricata's tooling: real detections on a real XDP data plane (veth pair
// in two test namespaces; one source blocked, one allow-listed and so only reported) are written
// by the alert-log responder, every line validates against Suricata's EVE schema (plus xids's
// own keys), and FEVER, a real EVE consumer, ingests them: it parses and forwards each alert
// line, drops what it cannot parse, and reads the timestamps in Suricata's form.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { twoHosts } from "../harness/netns.ts";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { builtins } from "../../plugins/index.ts";
import { catalogWithPortModel } from "../harness/port-model.ts";
import { signatureId } from "../../plugins/responders/alert-log/suricata.ts";
import { BUN, REPO, TempDir, quietLog, waitFor } from "../core/util.ts";
import { checkXidsAlert } from "../harness/eve-schema.ts";
import { FEVER, feverAlertify, feverRun } from "../harness/fever.ts";

const ATTACKER = "198.18.0.66";
const FRIEND = "198.18.0.70"; // on the allow list: reported, never blocked

const catalog = catalogWithPortModel;

describe("EVE compatibility of the alert log", () => {
  test("real detections validate against Suricata's EVE schema and FEVER ingests them", async () => {
    if (!existsSync(FEVER)) throw new Error(`${FEVER} is missing: scripts/setup.sh installs it (Debian package fever)`);
    using hosts = twoHosts();
    using dir = new TempDir();
    for (const a of [ATTACKER, FRIEND]) hosts.client.execSync(["ip", "addr", "add", `${a}/24`, "dev", "eth0"]);
    const send = (src: string, port: number, count: number) =>
      hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, hosts.serverIp, String(port), String(count)], { timeoutMs: 20_000 });
    const alerts = dir.file("alerts.jsonl");
    const r = checkConfig(
      {
        dataplane: { interfaces: ["eth0"], netns: hosts.server.name, early_end_packets: 1, sweep_interval_ms: 100, state_dir: dir.file("state") },
        pipeline: { models: ["port"], responders: ["xdp-drop", "log"], batch_wait_ms: 1, block: { ttl_seconds: 120 } },
        plugins: [
          { id: "xdp", kind: "extractor", builtin: "xdp" },
          { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
          { id: "port", kind: "model", builtin: "port-model" },
          // explain on: this model names no artifact, so each line says why it has no explanation.
          { id: "log", kind: "responder", builtin: "alert-log", config: { path: alerts, explain: {} } },
        ],
        allow: [`${FRIEND}/32`],
        control: { socket: dir.file("ctl.sock") },
      },
      catalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const agent = await Agent.start(r.config, { ...builtins, log: quietLog, catalog });
    let lines: string[];
    try {
      await send(ATTACKER, 4444, 1);
      await waitFor("the attacker to be blocked", () => agent.dataplane.listBlocked().some((h) => h.address === ATTACKER), 10_000);
      await send(FRIEND, 4444, 1);
      await send(FRIEND, 4445, 1); // benign: no alert
      await waitFor("two detections", () => agent.counters.detections >= 2, 10_000);
      await agent.whenIdle();
      await waitFor("one alert line per detection", () => existsSync(alerts) && readFileSync(alerts, "utf8").trim().split("\n").length === agent.counters.detections, 5_000);
      lines = readFileSync(alerts, "utf8").trim().split("\n");
    } finally {
      await agent.stop();
    }

    // 1. Suricata's schema, extended by xids's own keys only.
    const events = lines.map((l) => JSON.parse(l));
    for (const e of events) expect({ line: e.detection_id, errors: checkXidsAlert(e) }).toEqual({ line: e.detection_id, errors: [] });
    const bySource = Object.fromEntries(events.map((e) => [e.src_ip, e]));
    expect(Object.keys(bySource).sort()).toEqual([ATTACKER, FRIEND]);
    const sid = signatureId("PortScan");
    expect(bySource[ATTACKER]).toMatchObject({
      event_type: "alert", in_iface: "eth0", src_ip: ATTACKER, dest_ip: hosts.serverIp, dest_port: 4444, proto: "UDP",
      alert: { action: "blocked", gid: 1, signature_id: sid, rev: 3, signature: "xids port PortScan", category: "Detection of a Network Scan", severity: 3 },
      action: { type: "blocked", ttl_seconds: 120 },
    });
    expect(bySource[FRIEND]).toMatchObject({ alert: { action: "allowed", signature_id: sid }, action: { type: "allowed", allow: `${FRIEND}/32` } });
    expect(bySource[ATTACKER].flow_id).not.toBe(bySource[FRIEND].flow_id);
    for (const e of events) expect(e.explanation).toEqual({ skipped: 'model plugin "port" names no artifact folder to explain its score with' });

    // 2. FEVER ingests them. Beside our lines, a non-alert event (parsed, not forwarded: only
    // alerts are) and a line it cannot parse (a port that is not a number: dropped, warned about),
    // so that what comes out is FEVER's parsing at work, not a pipe.
    const flowEvent = JSON.stringify({ timestamp: events[0].timestamp, event_type: "flow", src_ip: ATTACKER, src_port: 1, dest_ip: hosts.serverIp, dest_port: 2, proto: "UDP" });
    const broken = JSON.stringify({ ...events[0], src_port: "not-a-port" });
    const run = await feverRun([...lines, flowEvent, broken], lines.length);
    expect(run.forwarded.map((l) => JSON.parse(l))).toEqual(events);
    const warnings = run.log.filter((l) => l.level === "warning" || l.level === "error" || l.level === "fatal" || l.level === "unparsed");
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('"src_port":"not-a-port"')]);

    // 3. `fever alertify` re-reads each timestamp in Suricata's form: no "could not be
    // transformed" warning, the event's time kept as it was, the flow and addresses kept.
    const made = await feverAlertify(lines, ATTACKER);
    expect(made.stderr).not.toContain("timestamp");
    expect(made.alerts.map((a) => [a.timestamp_event, a.flow_id, a.src_ip, a.dest_port])).toEqual(events.map((e) => [e.timestamp, e.flow_id, e.src_ip, e.dest_port]));
  }, 60_000);
});
