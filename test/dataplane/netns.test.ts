// Acceptance, on real traffic: xids_xdp attached (native XDP) to the server's veth in a namespace
// pair. A blocked source's packets are dropped while an allowed one passes; a block expires on
// time; IPv6 flows are tracked; the counters add up. Addresses from 198.18.0.0/15 and 2001:2::/48.
import { describe, expect, test } from "bun:test";
import { XdpLink } from "../../native/index.ts";
import { EndReason, type FlowRecord } from "../../core/ebpf/abi.ts";
import { formatIp } from "../../core/ebpf/addr.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { twoHosts, type TwoHosts } from "../harness/netns.ts";
import { ensureBpfBuilt } from "./helpers.ts";

const BLOCKED = "198.18.0.1"; // the client's primary address
const ALLOWED = "198.18.0.3"; // a second client address, on the allow list (so never on the block list)
const OTHER = "198.18.0.4"; // on neither list

async function ping(h: TwoHosts, from: string, to: string, count = 3): Promise<boolean> {
  const v6 = to.includes(":");
  const r = await h.client.exec(["ping", ...(v6 ? ["-6"] : []), "-c", String(count), "-i", "0.2", "-W", "1", "-I", from, to], {
    allowFail: true,
    timeoutMs: 10_000,
  });
  return r.code === 0;
}

describe("namespace testbed (native XDP on veth)", () => {
  test("block drops, allow passes, blocks expire, IPv6 flows tracked, counters add up", async () => {
    ensureBpfBuilt();
    using h = twoHosts({ clientIp: BLOCKED, serverIp: "198.18.0.2" });
    h.client.execSync(["ip", "addr", "add", `${ALLOWED}/24`, "dev", "eth0"]);
    h.client.execSync(["ip", "addr", "add", `${OTHER}/24`, "dev", "eth0"]);
    using dp = DataPlane.load({ idleTimeoutNs: 60_000_000_000n, flowsV4: 1024, flowsV6: 1024, ringBytes: 1 << 16 });
    using link = XdpLink.attach(dp.xdp, { ifname: "eth0", netns: h.server.path, mode: "native" });
    expect(link.mode).toBe("native");

    // Baseline: everyone gets through.
    expect(await ping(h, BLOCKED, h.serverIp, 1)).toBe(true);

    dp.allow("198.18.0.3/32");
    expect(dp.block(ALLOWED, { reason: 7 })).toBe(false); // refused: an allowed source is never blocked
    dp.block(BLOCKED, { reason: 7, ttlNs: 4_000_000_000n });
    const blockedAt = Date.now();
    expect(await ping(h, BLOCKED, h.serverIp, 3)).toBe(false);
    expect(await ping(h, ALLOWED, h.serverIp, 3)).toBe(true);
    expect(await ping(h, OTHER, h.serverIp, 2)).toBe(true);
    const dropsWhileBlocked = dp.counters().drop_reason_7!;
    expect(dropsWhileBlocked).toBeGreaterThanOrEqual(3n);
    expect(dp.blocks().find((b) => b.addr === BLOCKED)!.hits).toBe(dropsWhileBlocked);

    // The block lapses 4 s after it was set; the next packet removes it and passes.
    await Bun.sleep(Math.max(0, 4_300 - (Date.now() - blockedAt)));
    expect(await ping(h, BLOCKED, h.serverIp, 2)).toBe(true);
    expect(dp.blocks()).toEqual([]);
    expect(dp.counters().block_expired).toBe(1n);

    // IPv6: echo requests from the client form one ICMPv6 flow (plus neighbour discovery).
    expect(await ping(h, h.clientIp6, h.serverIp6, 3)).toBe(true);

    const recs: FlowRecord[] = [];
    dp.drain((r) => recs.push(r));
    dp.sweep("flush", (r) => recs.push(r));
    const echo6 = recs.find((r) => r.family === 6 && r.proto === 58 && formatIp(6, r.src) === h.clientIp6 && r.features[2]! >= 3n);
    expect(echo6).toBeDefined();
    expect(echo6!.endReason).toBe(EndReason.eoc);
    expect(echo6!.features[4]).toBe(56n); // ping's default 56-byte payload after the 8-byte ICMPv6 header
    const fromAllowed = recs.filter((r) => r.family === 4 && formatIp(4, r.src) === ALLOWED && r.proto === 1);
    expect(fromAllowed.reduce((n, r) => n + r.features[2]!, 0n)).toBeGreaterThanOrEqual(3n);

    const c = dp.counters();
    expect(c.pkts_seen).toBe(c.pkts_passed! + c.pkts_dropped!);
    expect(c.bytes_seen).toBe(c.bytes_passed! + c.bytes_dropped!);
    expect(c.pkts_dropped).toBe(c.drop_blocked! + c.drop_malformed!);
    expect(c.drop_blocked).toBe(c.drop_reason_7!);
    expect(c.allowed).toBeGreaterThanOrEqual(3n);
    expect(c.flows_started).toBe(c.flows_ended! + c.flows_live! + c.flows_evicted!);
    expect(c.flows_live).toBe(0n);
    expect(c.records_emitted).toBe(BigInt(recs.length));
    expect(c.records_lost).toBe(0n);
    console.log(`  testbed: ${c.pkts_seen} packets seen, ${c.pkts_dropped} dropped, ${recs.length} flow records`);
  }, 60_000);
});
