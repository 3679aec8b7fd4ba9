import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { execSync } from "./exec.ts";
import { PinDir } from "./bpffs.ts";
import { Netns, twoHosts } from "./netns.ts";

describe("test harness", () => {
  test("namespaces joined by a veth pair reach each other over IPv4 and IPv6", async () => {
    using hosts = twoHosts();
    const v4 = await hosts.client.exec(["ping", "-c", "1", "-W", "2", hosts.serverIp], { allowFail: true });
    const v6 = await hosts.client.exec(["ping", "-6", "-c", "1", "-W", "2", hosts.serverIp6], { allowFail: true });
    expect(v4.code).toBe(0);
    expect(v6.code).toBe(0);
    // The root namespace cannot see the test addresses: traffic stays between our namespaces.
    expect(execSync(["ip", "-o", "addr"]).stdout).not.toContain(hosts.serverIp);
  });

  test("closing removes namespaces and pin directories, even twice", () => {
    const ns = Netns.create();
    const pins = new PinDir("h");
    expect(existsSync(ns.path)).toBe(true);
    expect(existsSync(pins.path)).toBe(true);
    ns.close();
    ns.close();
    pins.close();
    pins.close();
    expect(existsSync(ns.path)).toBe(false);
    expect(existsSync(pins.path)).toBe(false);
  });

  test("a failing command reports its exit code and stderr", async () => {
    await expect(import("./exec.ts").then((m) => m.exec(["ip", "link", "show", "no-such-dev0"]))).rejects.toThrow(/exit 1.*\n.*no-such-dev0|does not exist/s);
  });
});
