// The author kit's TypeScript external responder: conformant, and under a real `xids run` (a
// capture through the pcap extractor, the shipped decision tree) it writes every detection once.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../../client/control.ts";
import { runConformance } from "../../../test/conformance/conformance.ts";
import { sharedPath } from "../../../test/harness/paths.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../../../test/core/util.ts";

const MAIN = join(REPO, "plugins/responders/example-external/main.ts");
const CAPTURE = sharedPath("pcaps/esnet/nmap_nmap_80_all.pcap", "the example external responder");

describe("example external responder", () => {
  test("passes the conformance suite in its own process (given its config)", async () => {
    using dir = new TempDir();
    const address = `unix:${dir.file("r.sock")}`;
    using proc = new Proc([BUN, MAIN, "--listen", address]);
    await waitFor("listening", () => proc.out.includes("serving Responder"), 10_000);
    const r = await runConformance(address, { config: { path: dir.file("conformance.jsonl") } });
    if (!r.ok) throw new Error(`not conformant:\n  ${r.failures.join("\n  ")}`);
    expect([r.kind, r.info?.id]).toEqual(["responder", "example-jsonl"]);
  });

  test.skipIf(CAPTURE === null)("under a real xids run it receives its config and writes every detection, once each", async () => {
    using dir = new TempDir();
    const sock = dir.file("ctl.sock"), out = dir.file("detections.jsonl"), rsock = dir.file("r.sock"), config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane: { state_dir: ${dir.path} }
pipeline: { models: [dt], responders: [jsonl], batch_wait_ms: 1 }
plugins:
  - { id: capture, kind: extractor, builtin: pcap, config: { capture: "${CAPTURE}" } }
  - { id: dt, kind: model, builtin: artifact, config: { artifact: "${join(REPO, "models/artifacts/dt")}" } }
  - id: jsonl
    kind: responder
    external: { address: "unix:${rsock}", command: ["${BUN}", "${MAIN}", "--listen", "unix:${rsock}"] }
    config: { path: ${out} }
control: { socket: ${sock} }
`,
    );
    using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const c = connectControl({ socket: sock, timeoutMs: 2_000 });
    try {
      await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      await waitFor("every detection written", async () => {
        const st = await c.getStats();
        return st.detections > 0 && existsSync(out) && readFileSync(out, "utf8").trim().split("\n").length === st.detections && agent.err.includes("flow records delivered");
      }, 20_000, 100);
      const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
      expect(lines[0]).toMatchObject({ detector: "dt" });
      expect((await c.getStats()).responderErrors).toBe(0);
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      await agent.exited(10_000);
    }
  }, 60_000);
});
