// Jumbo frames: the data plane is frags-aware (every program is SEC("xdp.frags")), so it attaches
// natively to a veth whose MTU is 9000 and parses frames that span several buffers: the headers
// come from the linear part, lengths from the whole frame (bpf_xdp_get_buff_len). Real 9000-byte
// pings and a real TCP transfer, features checked against what was sent.
import { describe, expect, test } from "bun:test";
import { XdpLink } from "../../native/index.ts";
import type { FlowRecord } from "../../core/ebpf/abi.ts";
import { formatIp } from "../../core/ebpf/addr.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { twoHosts } from "../harness/netns.ts";
import { ensureBpfBuilt } from "./helpers.ts";

const MTU = 9000;
const PING_DATA = MTU - 20 - 8; // an IPv4 + ICMP header: the largest unfragmented echo
const TCP_BYTES = 2_000_000;

describe("jumbo frames (MTU 9000, multi-buffer XDP)", () => {
  test("attaches natively; 9000-byte pings and a TCP transfer are parsed and counted exactly", async () => {
    ensureBpfBuilt();
    using h = twoHosts();
    for (const ns of [h.client, h.server]) ns.execSync(["ip", "link", "set", "eth0", "mtu", String(MTU)]);
    using dp = DataPlane.load({ idleTimeoutNs: 1_000_000_000n, flowsV4: 1024, flowsV6: 1024, ringBytes: 1 << 20 });
    using link = XdpLink.attach(dp.xdp, { ifname: "eth0", netns: h.server.path, mode: "native" });
    expect(link.mode).toBe("native");

    const ping = await h.client.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", String(PING_DATA), h.serverIp], { allowFail: true, timeoutMs: 10_000 });
    expect(ping.code).toBe(0); // passed through XDP and answered
    const server = h.server.spawn(["timeout", "15", "nc", "-l", "-s", h.serverIp, "-p", "5901"]);
    await Bun.sleep(300);
    const sent = await h.client.exec(["bash", "-c", `head -c ${TCP_BYTES} /dev/zero | nc -N -w 3 ${h.serverIp} 5901`], { allowFail: true, timeoutMs: 15_000 });
    expect(sent.code).toBe(0);
    await server.exited;

    const records: FlowRecord[] = [];
    dp.sweep("flush", (r) => records.push(r));
    const from = records.filter((r) => formatIp(r.family, r.src) === h.clientIp);
    const echo = from.find((r) => r.proto === 1)!;
    // FEATURES.md 2 / 3 / 4: forward packets, their payload bytes, the largest payload.
    expect([echo.features[2], echo.features[3], echo.features[4]]).toEqual([3n, BigInt(3 * PING_DATA), BigInt(PING_DATA)]);
    const tcp = from.find((r) => r.proto === 6 && r.dstPort === 5901)!;
    expect(tcp.features[3]).toBe(BigInt(TCP_BYTES)); // every payload byte, whatever the segmentation
    expect(tcp.features[4]).toBeGreaterThan(4096n); // segments bigger than a page: they spanned buffers
    expect(tcp.features[4]).toBeLessThanOrEqual(BigInt(MTU - 40));
    expect(dp.counter("malformed")).toBe(0n);
  }, 60_000);
});
