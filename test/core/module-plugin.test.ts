// A plugin from outside this repository, loaded by `module:` with no edit of the core: the
// example plugins/responders/example-module/file-sink.ts, copied into a folder of its own outside
// the checkout that depends on the package ("xids" in its node_modules, a link to this checkout)
// and imports only the SDK. A real `xids run` loads it from its config, checks its config against
// its own schema, and hands it the detections of a capture.
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectControl } from "../../client/control.ts";
import { sharedPath } from "../harness/paths.ts";
import { BUN, Proc, REPO, waitFor, xids } from "./util.ts";

const CAPTURE = sharedPath("pcaps/esnet/nmap_nmap_80_all.pcap", "the module plugin test");

describe("module plugins", () => {
  test.skipIf(CAPTURE === null)("a plugin outside the repo, importing only the SDK, loads by module: under xids run and receives every detection; its config is checked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xids-module-"));
    try {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(REPO, join(dir, "node_modules", "xids"));
      copyFileSync(join(REPO, "plugins/responders/example-module/file-sink.ts"), join(dir, "file-sink.ts"));
      const sock = join(dir, "ctl.sock"), out = join(dir, "detections.txt");
      const config = (sinkConfig: string, module = "./file-sink.ts") => {
        const path = join(dir, "xids.yaml");
        writeFileSync(
          path,
          `dataplane: { state_dir: ${dir} }
pipeline: { models: [dt], responders: [sink], batch_wait_ms: 1 }
plugins:
  - { id: capture, kind: extractor, builtin: pcap, config: { capture: "${CAPTURE}" } }
  - { id: dt, kind: model, builtin: artifact, config: { artifact: "${join(REPO, "models/artifacts/dt")}" } }
  - { id: sink, kind: responder, module: ${module}, config: ${sinkConfig} }
control: { socket: ${sock} }
`,
        );
        return path;
      };
      using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config(`{ path: ${out} }`)]);
      const c = connectControl({ socket: sock, timeoutMs: 2_000 });
      try {
        await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
        await waitFor("every detection in the file", async () => {
          const st = await c.getStats();
          return agent.err.includes("flow records delivered") && st.detections > 0 && existsSync(out) && readFileSync(out, "utf8").trim().split("\n").length === st.detections;
        }, 20_000, 100);
        expect(readFileSync(out, "utf8").split("\n")[0]).toMatch(/^d-\S+ \S+ \S+$/);
      } finally {
        c.close();
        agent.proc.kill("SIGTERM");
        expect(await agent.exited(10_000)).toBe(0);
      }
      // Its own schema checks its config at start; a missing module is named.
      const bad = await xids(["run", "--config", config("{ path: 3 }")]);
      expect([bad.code, bad.err]).toEqual([1, expect.stringContaining('plugin "sink" failed to start: plugins.sink.config.path: expected a file path, got 3 (on_start_failure: abort)')]);
      const missing = await xids(["run", "--config", config(`{ path: ${out} }`, "./nope.ts")]);
      expect([missing.code, missing.err]).toEqual([1, expect.stringMatching(/plugin "sink" failed to start: Cannot find module .*nope\.ts/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
