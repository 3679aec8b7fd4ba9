// The capture extractor under a real `xids run` with no interface and no kernel: a real scan
// capture flows through the pipeline, its records are exactly the reference data plane's (the
// kernel's rules), a user-space model classifies them and the alert log gets the detections.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../../client/control.ts";
import { salvageCapture } from "../xdp/pcap.ts";
import { replayReference } from "../xdp/replay.ts";
import { flowReplayOptions } from "../xdp/replay-config.ts";
import { checkConfig } from "../../../core/config/load.ts";
import { sharedPath } from "../../../test/harness/paths.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../../../test/core/util.ts";

const CAPTURE = sharedPath("pcaps/esnet/masscan_tcp_0_1000_20190821.pcap", "the pcap extractor");

describe("pcap extractor", () => {
  test.skipIf(CAPTURE === null)("a real scan capture through xids run: the reference's records, classified, detections in the alert log", async () => {
    using dir = new TempDir();
    const sock = dir.file("ctl.sock"), alerts = dir.file("alerts.jsonl"), config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane: { state_dir: ${dir.path} }
pipeline: { models: [dt], responders: [log], batch_wait_ms: 1 }
plugins:
  - { id: capture, kind: extractor, builtin: pcap, config: { capture: "${CAPTURE}" } }
  - { id: dt, kind: model, builtin: artifact, config: { artifact: "${join(REPO, "models/artifacts/dt")}" } }
  - { id: log, kind: responder, builtin: alert-log, config: { path: ${alerts} } }
control: { socket: ${sock} }
`,
    );
    // What the kernel's rules make of it, with the agent's default flow settings.
    const defaults = checkConfig({});
    if (!defaults.ok) throw new Error("the default configuration does not check");
    const want = replayReference(salvageCapture(CAPTURE!).packets, flowReplayOptions(defaults.config.dataplane)).records.length;
    expect(want).toBeGreaterThan(100);
    using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const c = connectControl({ socket: sock, timeoutMs: 2_000 });
    try {
      await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      await waitFor("every record", async () => (await c.getStats()).flowsReceived === want, 20_000, 100);
      const st = await c.getStats();
      expect(st.flowsClassified).toBe(want);
      expect(st.detections).toBeGreaterThan(want / 2); // a masscan SYN scan: mostly attack flows
      await waitFor("the alert log", () => existsSync(alerts) && readFileSync(alerts, "utf8").trim().split("\n").length === st.detections, 10_000);
      const first = JSON.parse(readFileSync(alerts, "utf8").split("\n")[0]!);
      expect(first.flow.source).toBe("pcap:masscan_tcp_0_1000_20190821.pcap");
      expect(agent.err).toContain(`flow records delivered`);
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      await agent.exited(10_000);
    }
  }, 60_000);
});
