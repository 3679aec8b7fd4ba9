import { describe, expect, test } from "bun:test";
import { XdpDropResponder, xdpDrop } from "./index.ts";
import { Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { MemoryDataPlane } from "../../../core/ebpf/memory-dataplane.ts";
import { FlowRecord, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { parseCidr, type Cidr } from "../../../core/util/net.ts";
import { quietLog, startBuiltin, testServices } from "../../../test/core/util.ts";

const POLICY = { min_attacks: 3, min_attack_pct: 50, window_seconds: 30 };
const rec = (src: string, kernelVerdict = Verdict.VERDICT_NONE) => FlowRecord.create({ id: 1, family: src.includes(":") ? 6 : 4, srcAddr: src, kernelVerdict });

describe("xdp-drop responder", () => {
  test("blocks with the configured TTL and reason; the allow list wins; disabled = alert only", () => {
    const dp = new MemoryDataPlane();
    dp.allow(parseCidr("198.18.4.0/24") as Cidr);
    dp.allow(parseCidr("2001:2::/64") as Cidr);
    const r = new XdpDropResponder({ enabled: true, ttl_seconds: 90, reason: 7, ...POLICY }, dp, quietLog);
    expect(r.respond(rec("198.18.0.5"))).toEqual({ type: "blocked", ttlSeconds: 90, reason: 7 });
    expect(r.respond(rec("198.18.4.200"))).toEqual({ type: "allowed", allow: "198.18.4.0/24" });
    expect(r.respond(rec("2001:2::7"))).toEqual({ type: "allowed", allow: "2001:2::/64" });
    expect(r.respond(rec("2001:2:0:1::7"))).toEqual({ type: "blocked", ttlSeconds: 90, reason: 7 });
    expect(r.respond(rec("not-an-ip")).type).toBe("alert");
    expect(dp.listBlocked().map((b) => [b.address, b.reason, b.expiresInMs > 89_000])).toEqual([
      ["198.18.0.5", 7, true],
      ["2001:2:0:1::7", 7, true],
    ]);
    expect(r.stats).toEqual({ blocks: 2, kernelBlocked: 0, skippedAllowed: 2, refused: 0, failures: 0, notYet: 0 });
    const off = new XdpDropResponder({ enabled: false, ttl_seconds: 90, reason: 7, ...POLICY }, dp, quietLog);
    expect(off.respond(rec("198.18.0.6"))).toEqual({ type: "alert", why: "pipeline.block.enabled is false" });
    expect(dp.listBlocked().length).toBe(2);
  });

  test("a failed map write is reported, not thrown", () => {
    const dp = new MemoryDataPlane();
    dp.block = () => {
      throw new Error("map full");
    };
    const r = new XdpDropResponder({ enabled: true, ttl_seconds: 1, reason: 1, ...POLICY }, dp, quietLog);
    expect(r.respond(rec("198.18.0.5"))).toEqual({ type: "failed", error: "map full" });
    expect(r.stats.failures).toBe(1);
    // An in-kernel attack verdict with no kernel attached (memory data plane) is blocked here.
    const ok = new XdpDropResponder({ enabled: true, ttl_seconds: 1, reason: 1, ...POLICY }, new MemoryDataPlane(), quietLog);
    expect(ok.respond(rec("198.18.0.5", Verdict.VERDICT_ATTACK)).type).toBe("blocked");
  });
});

describe("xdp-drop plugin", () => {
  test("is an inline responder; its Ack carries the action, the TTL and the detail the detection reports", async () => {
    const reg = xdpDrop();
    expect([reg.kind, reg.inline]).toEqual(["responder", true]);
    const dp = new MemoryDataPlane();
    dp.allow(parseCidr("198.18.4.0/24") as Cidr);
    const api = await startBuiltin(reg, {}, "xdp-drop", testServices(dp));
    const handle = async (src: string) => {
      const a = await api.handle(Detection.create({ id: "d", record: rec(src) }));
      return [a.accepted, a.action, a.blockTtlSeconds, a.message];
    };
    expect(await handle("198.18.0.5")).toEqual([true, "blocked", 300, ""]);
    expect(await handle("198.18.4.9")).toEqual([true, "allowed", 0, "198.18.4.0/24"]);
    expect(await handle("nope")).toEqual([true, "alert", 0, 'source "nope" is not an address']);
    // Never a source to block, whatever the model says.
    expect(await handle("fe80::1")).toEqual([true, "refused", 0, "fe80::1 is a link-local address (neighbour discovery and routers use these)"]);
    expect(await handle("::ffff:127.0.0.1")).toEqual([true, "refused", 0, "127.0.0.1 is a loopback address"]);
    expect(await handle("224.0.0.251")).toEqual([true, "refused", 0, "224.0.0.251 is a multicast address"]);
    expect(dp.listBlocked().map((b) => b.address)).toEqual(["198.18.0.5"]);
  });
});
