// One version everywhere: `xids --version`, the control API's Status and /metrics' xids_build_info
// all say package.json's version. The agent is a real `xids run` process attached to a veth in
// test namespaces, queried over its control socket and scraped over HTTP like an operator would.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { twoHosts } from "../harness/netns.ts";
import { connectControl } from "../../client/control.ts";
import { BUN, Proc, REPO, TempDir, waitFor, xids } from "../core/util.ts";
import { parseExposition } from "./prom-parse.ts";

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

describe("version", () => {
  test("package.json's version is what xids --version, Status.version and xids_build_info report", async () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    const cli = await xids(["--version"]);
    expect(cli).toEqual({ code: 0, out: `xids ${PACKAGE_VERSION}\n`, err: "" });

    using hosts = twoHosts();
    using dir = new TempDir();
    const sock = dir.file("ctl.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, xdp_mode: native, state_dir: ${dir.file("state")} }
control: { socket: ${sock} }
http: { listen: "127.0.0.1:0" }
`,
    );
    using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const c = connectControl({ socket: sock });
    let exitCode: number | null = null;
    try {
      const status = await waitFor("the agent to run", async () => {
        if (!existsSync(sock)) return null;
        const s = await c.status();
        return s.state === "running" ? s : null;
      }, 20_000).catch((err) => {
        throw new Error(`${(err as Error).message}; log:\n${agent.err}`);
      });
      expect(status.version).toBe(PACKAGE_VERSION);
      expect(status.interface).toBe("eth0");

      // Port 0 took any free port; the agent logs the one it got.
      const url = agent.err.match(/metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics/)?.[1];
      expect(url, agent.err).toBeDefined();
      const families = parseExposition(await (await fetch(`${url}/metrics`)).text());
      expect(families.get("xids_build_info")?.samples).toEqual([
        { name: "xids_build_info", labels: { version: PACKAGE_VERSION, interface: "eth0", xdp_mode: status.xdpMode }, value: 1 },
      ]);
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      exitCode = await agent.exited(10_000);
    }
    expect(exitCode, agent.err).toBe(0);
  }, 60_000);
});
