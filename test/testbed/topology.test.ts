// The testbed's star: one namespace per host, each on its own link and /24 to the victim, IPv6
// link-local only (no global IPv6 address), and nothing left after dispose.
import { expect, test } from "bun:test";
import { buildStar } from "./topology.ts";

test("every host reaches the victim on its own link; IPv6 link-local only; disposal removes all", async () => {
  let names: string[];
  {
    using star = buildStar(["web", "scan", "flood"], "xidst");
    names = [star.victim.name, ...star.hosts.map((h) => h.ns.name)];
    expect(star.hosts.map((h) => [h.id, h.ip, h.victimIp, h.victimIface])).toEqual([
      ["web", "198.18.10.2", "198.18.10.1", "h0"],
      ["scan", "198.18.11.2", "198.18.11.1", "h1"],
      ["flood", "198.18.12.2", "198.18.12.1", "h2"],
    ]);
    for (const h of star.hosts) {
      expect((await h.ns.exec(["ping", "-c", "1", "-W", "2", h.victimIp], { allowFail: true })).code).toBe(0);
      // Links are separate: a host has no route to another host's network.
      const other = star.hosts.find((o) => o !== h)!;
      expect((await h.ns.exec(["ping", "-c", "1", "-W", "1", other.ip], { allowFail: true })).code).not.toBe(0);
    }
    for (const ns of [star.victim, ...star.hosts.map((h) => h.ns)]) {
      expect(ns.execSync(["ip", "-6", "addr", "show", "scope", "global"]).stdout.trim()).toBe("");
      expect(ns.execSync(["ip", "-6", "addr", "show", "scope", "link"]).stdout).toContain("fe80::");
    }
  }
  const left = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
  for (const n of names) expect(left).not.toContain(n);
});

test("a star refuses duplicate ids and sizes it cannot address", () => {
  expect(() => buildStar(["a", "a"], "xidst")).toThrow(/unique/);
  expect(() => buildStar([], "xidst")).toThrow(/1\.\.200/);
});
