// The unit's capability set is enough: `xids run` with exactly CapabilityBoundingSet of
// packaging/xids.service (uid 0, every other capability gone, as systemd starts it) attaches
// native XDP to a veth in a test namespace, pins its state, blocks a source in the kernel over
// the control API, and stops cleanly. The agent is entered into the namespace with nsenter
// (network only: bpffs stays mounted), so no dataplane.netns and no CAP_SYS_ADMIN.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../client/control.ts";
import { PinDir } from "../test/harness/bpffs.ts";
import { twoHosts } from "../test/harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../test/core/util.ts";

/** Capability numbers (linux/capability.h) of the names the unit uses. */
const CAP_NUMBER: Record<string, number> = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };

function unitCapabilities(): string[] {
  const unit = readFileSync(join(import.meta.dir, "xids.service"), "utf8");
  const line = unit.match(/^CapabilityBoundingSet=(.+)$/m)?.[1];
  if (!line) throw new Error("packaging/xids.service has no CapabilityBoundingSet= line");
  return line.trim().split(/\s+/);
}

/** The effective capability mask of a running process, from /proc. */
const capEff = (pid: number) => BigInt("0x" + readFileSync(`/proc/${pid}/status`, "utf8").match(/^CapEff:\s+([0-9a-f]+)$/m)![1]);

describe("the unit's capabilities", () => {
  test("CAP_BPF CAP_NET_ADMIN CAP_PERFMON run the agent: native XDP, pinned state, a kernel block", async () => {
    const caps = unitCapabilities();
    expect(caps).toEqual(["CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON"]);
    const mask = caps.reduce((m, c) => m | (1n << BigInt(CAP_NUMBER[c]!)), 0n);

    using hosts = twoHosts();
    using dir = new TempDir();
    using pins = new PinDir("caps");
    const sock = dir.file("ctl.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane: { interfaces: [eth0], xdp_mode: native, pin_dir: ${pins.path}/xids, state_dir: ${dir.file("state")} }
control: { socket: ${sock} }
`,
    );
    const bounding = "-all," + caps.map((c) => "+" + c.slice(4).toLowerCase()).join(",");
    using agent = new Proc(["nsenter", `--net=/run/netns/${hosts.server.name}`, "setpriv", `--bounding-set=${bounding}`, "--", BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
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
      expect(status.xdpMode).toBe("native");
      expect(status.plugins.map((p) => [p.id, p.state])).toEqual([["xdp", "running"], ["kernel-mlp", "running"], ["xdp-drop", "running"], ["alert-log", "running"]]);
      // The process that runs is bun itself (nsenter and setpriv exec), with no more than the set.
      expect(capEff(agent.pid)).toBe(mask);
      expect(existsSync(join(pins.path, "xids", "link_eth0"))).toBe(true);

      // A block reaches the kernel: the client's pings stop.
      const ping = () => hosts.client.exec(["ping", "-c", "2", "-W", "1", hosts.serverIp], { timeoutMs: 5_000, allowFail: true });
      expect((await ping()).code).toBe(0);
      await c.block(hosts.clientIp, 60, 1);
      const blocked = await ping();
      expect(blocked.stdout).toContain("2 packets transmitted, 0 received");
    } finally {
      c.close();
      agent.proc.kill("SIGTERM");
      exitCode = await agent.exited(10_000);
    }
    expect(exitCode, agent.err).toBe(0);
    expect(agent.err).toContain("[xids] stopped");
  }, 60_000);
});
