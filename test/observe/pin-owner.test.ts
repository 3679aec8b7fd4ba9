// One owner of pinned state. A second `xids run` for the same dataplane.pin_dir exits at once
// with the reason and touches nothing (the first agent's link keeps its program and keeps
// dropping); a start that fails takes back only what it created.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../client/control.ts";
import { xdpQuery } from "../../native/index.ts";
import { PinDir } from "../harness/bpffs.ts";
import { twoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

const ATTACKER = "198.18.0.66";
const PORT = 5557;

function config(dir: TempDir, netns: string, pinDir: string, sock: string, extra = ""): string {
  const path = dir.file(`xids-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `dataplane: { interfaces: [eth0], netns: ${netns}, pin_dir: ${pinDir} }
pipeline: { models: [], responders: [] }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
${extra}control: { socket: ${sock} }
`,
  );
  return path;
}

const run = (path: string) => new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", path]);

describe("pinned state has one owner", () => {
  test("a second agent on the same pins exits non-zero within 2 s and changes nothing; the first keeps dropping", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("owner");
    hosts.client.execSync(["ip", "addr", "add", `${ATTACKER}/24`, "dev", "eth0"]);
    const netns = hosts.server.name;
    using first = run(config(dir, netns, pins.path, dir.file("a.sock")));
    const c = connectControl({ socket: dir.file("a.sock"), timeoutMs: 2_000 });
    try {
      await waitFor("the first agent", async () => existsSync(dir.file("a.sock")) && (await c.status()).state === "running", 20_000, 50);
      await c.block(ATTACKER, 0, 3);
      const prog = xdpQuery({ ifname: "eth0", netns: hosts.server.path }).progId;
      expect(prog).toBeGreaterThan(0);

      // The same pins with another control socket: refused before anything pinned is touched.
      using second = run(config(dir, netns, pins.path, dir.file("b.sock")));
      const code = await second.exited(2_000);
      expect(second.proc.signalCode).toBeNull(); // it exited by itself, not killed at the deadline
      expect(code).not.toBe(0);
      expect(second.err).toContain(`dataplane.pin_dir ${pins.path} belongs to another running xids (pid ${first.pid}`);
      expect(existsSync(dir.file("b.sock"))).toBe(false);

      // The first agent's link still runs its program and drops the blocked source.
      expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).progId).toBe(prog);
      expect((await c.status()).state).toBe("running");
      const dropsBefore = (await c.getStats()).dataplane.drop_blocked ?? 0;
      const receiver = hosts.server.spawn([BUN, join(REPO, "test/observe/udp-count.ts"), String(PORT), "8000"]);
      await Bun.sleep(300);
      await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), ATTACKER, hosts.serverIp, String(PORT), "20"], { timeoutMs: 10_000 });
      await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), hosts.clientIp, hosts.serverIp, String(PORT), "5"], { timeoutMs: 10_000 });
      await waitFor("the drops", async () => ((await c.getStats()).dataplane.drop_blocked ?? 0) >= dropsBefore + 20, 5_000);
      receiver.kill("SIGTERM");
      const got = JSON.parse((await new Response(receiver.stdout).text()) || "{}") as Record<string, number>;
      expect(got[ATTACKER] ?? 0).toBe(0);
      expect(got[hosts.clientIp]).toBe(5);
    } finally {
      c.close();
      first.proc.kill("SIGTERM");
      await first.exited(10_000);
    }
  }, 60_000);

  test("a failed start removes the pin directory it made and detaches what it attached", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("owner");
    const fresh = join(pins.path, "fresh"); // does not exist yet
    const failing = `  - id: broken\n    kind: model\n    external: { address: "unix:${dir.file("b.sock")}", command: ["${BUN}", "-e", "process.exit(7)"] }\n`;
    using agent = run(config(dir, hosts.server.name, fresh, dir.file("c.sock"), failing));
    expect(await agent.exited(20_000)).toBe(1);
    expect(agent.err).toContain('plugin "broken" failed to start');
    expect(existsSync(fresh)).toBe(false);
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("none");
  }, 30_000);

  test("a failed start keeps a link it re-adopted attached (it still drops) and the maps pinned", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("owner");
    const netns = hosts.server.name;
    // A first agent pins its link and maps, and is killed.
    const first = run(config(dir, netns, pins.path, dir.file("a.sock")));
    const c = connectControl({ socket: dir.file("a.sock"), timeoutMs: 2_000 });
    await waitFor("the first agent", async () => existsSync(dir.file("a.sock")) && (await c.status()).state === "running", 20_000, 50);
    await c.block(ATTACKER, 0, 3);
    c.close();
    first.proc.kill("SIGKILL");
    await first.exited(5_000);
    expect(readdirSync(pins.path)).toContain("link_eth0");
    // The next start re-adopts the link, then fails on a plugin.
    const failing = `  - id: broken\n    kind: model\n    external: { address: "unix:${dir.file("b.sock")}", command: ["${BUN}", "-e", "process.exit(7)"] }\n`;
    using second = run(config(dir, netns, pins.path, dir.file("d.sock"), failing));
    expect(await second.exited(20_000)).toBe(1);
    expect(second.err).toContain("re-adopted");
    expect(readdirSync(pins.path)).toEqual(expect.arrayContaining(["link_eth0", "blocklist"]));
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("native");
  }, 60_000);
});
