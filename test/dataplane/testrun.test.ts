// Exact per-packet behaviour of xids_xdp / xids_sweep through BPF_PROG_TEST_RUN with the test
// clock: the allow/block rule, block expiry and per-reason drops, IPv6, timeouts, sweeps, early end,
// overflow, lost records and LRU eviction. The reference is run alongside where it applies.
import { describe, expect, test } from "bun:test";
import { ALLOW_USED, EndReason, MAPS, SweepMode, type FlowRecord } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { ReferenceDataPlane, XDP_DROP, XDP_PASS } from "../../plugins/extractors/xdp/reference.ts";
import { join } from "node:path";
import { renameSync } from "node:fs";
import { Collection, u32Key } from "../../native/index.ts";
import { PinDir } from "../harness/bpffs.ts";
import { FIXTURES } from "../harness/paths.ts";
import { F, frame } from "./packets.ts";
import { ensureBpfBuilt, plain } from "./helpers.ts";

const T = 1_000_000_000_000n; // test clock start, ns
const S = 1_000_000_000n;

function load(opts: Parameters<typeof DataPlane.load>[0] = {}): DataPlane {
  ensureBpfBuilt();
  const dp = DataPlane.load({ testClock: true, flowsV4: 4096, flowsV6: 4096, ...opts });
  dp.setClock(T);
  return dp;
}

function run(dp: DataPlane, data: Uint8Array, at: bigint): number {
  dp.setClock(at);
  return dp.xdp.testRun({ data }).retval;
}

/** The kernel's allow_used bits (which allow lists it consults). */
function allowUsed(dp: DataPlane): number {
  const v = dp.coll.map(MAPS.allowUsed).lookup(new Uint8Array(4))!;
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
}

function records(dp: DataPlane): FlowRecord[] {
  const out: FlowRecord[] = [];
  dp.drain((r) => out.push(r));
  return out;
}

const udp4 = (src: string, dport = 53) => frame({ src, dst: "198.18.1.1", proto: "udp", sport: 5000, dport, payload: 20 });
const udp6 = (src: string) => frame({ src, dst: "2001:2::100", proto: "udp", sport: 5000, dport: 53, payload: 20 });

describe("allow and block lists", () => {
  test("a blocked source is dropped and counted per reason; others pass", () => {
    using dp = load();
    dp.block("198.18.0.66", { reason: 3 });
    dp.block("198.18.0.67", { reason: 99 }); // beyond the per-reason slots: counted in the last one
    expect(dp.blocks().find((b) => b.addr === "198.18.0.66")).toMatchObject({ addedNs: T, firstDropNs: 0n });
    expect(run(dp, udp4("198.18.0.66"), T + 7n)).toBe(XDP_DROP);
    expect(run(dp, udp4("198.18.0.66"), T + 9n)).toBe(XDP_DROP);
    // The first drop is kept (detection latency is measured to it), later drops only count.
    expect(dp.blocks().find((b) => b.addr === "198.18.0.66")).toMatchObject({ addedNs: T, firstDropNs: T + 7n });
    expect(run(dp, udp4("198.18.0.67"), T)).toBe(XDP_DROP);
    expect(run(dp, udp4("198.18.0.5"), T)).toBe(XDP_PASS);
    const c = dp.counters();
    expect([c.drop_blocked, c.drop_reason_3, c.drop_reason_15, c.pkts_dropped, c.pkts_passed]).toEqual([3n, 2n, 1n, 3n, 1n]);
    expect(c.bytes_dropped).toBe(BigInt(3 * udp4("198.18.0.66").length));
    expect(dp.blocks().find((b) => b.addr === "198.18.0.66")).toMatchObject({ reason: 3, hits: 2n, expiresNs: 0n });
    expect(dp.unblock("198.18.0.66")).toBe(true);
    expect(run(dp, udp4("198.18.0.66"), T)).toBe(XDP_PASS);
  });

  test("an allow-listed source is never in the block list: block refuses it, allow lifts blocks inside the CIDR", () => {
    using dp = load({ dropMalformed: true });
    // Blocks first, then the CIDRs over them: allow() lifts every block inside (expired ones too).
    dp.block("198.18.0.9", { reason: 1 });
    dp.block("198.18.0.10", { reason: 1, ttlNs: 1n }); // expired by the time of the packets below
    dp.block("2001:2::9", { reason: 1 });
    dp.block("198.18.1.9", { reason: 1 });
    expect(dp.allow("198.18.0.0/24").sort()).toEqual(["198.18.0.10", "198.18.0.9"]);
    expect(dp.allow("2001:2::/48")).toEqual(["2001:2::9"]);
    expect(dp.blocks().map((b) => b.addr)).toEqual(["198.18.1.9"]);
    // And the other way round: a block of an allowed source is refused (the longest-prefix match
    // of the kernel's own tries), a block elsewhere is written.
    expect(dp.block("198.18.0.77", { reason: 1 })).toBe(false);
    expect(dp.block("2001:2:0:ffff::1", { reason: 1 })).toBe(false);
    expect(dp.block("198.18.2.9", { reason: 1 })).toBe(true);
    expect(dp.blocks().map((b) => b.addr).sort()).toEqual(["198.18.1.9", "198.18.2.9"]);
    expect(run(dp, udp4("198.18.0.9"), T + 5n)).toBe(XDP_PASS);
    expect(run(dp, udp6("2001:2::9"), T + 5n)).toBe(XDP_PASS);
    expect(run(dp, udp4("198.18.0.77"), T + 5n)).toBe(XDP_PASS);
    expect(run(dp, udp4("198.18.1.9"), T + 5n)).toBe(XDP_DROP);
    // Allowed sources are never dropped, not even when malformed and cfg_drop_malformed is on.
    const bad = udp4("198.18.0.10");
    bad[14] = 0x44; // IHL 4
    expect(run(dp, bad, T + 5n)).toBe(XDP_PASS);
    const bad2 = udp4("198.18.2.10");
    bad2[14] = 0x44;
    expect(run(dp, bad2, T + 5n)).toBe(XDP_DROP);
    const c = dp.counters();
    expect([c.allowed, c.drop_blocked, c.malformed, c.drop_malformed, c.block_expired]).toEqual([4n, 1n, 2n, 1n, 0n]);
    // Nothing waits under the allow list: disallowing does not bring a lifted block back.
    expect(allowUsed(dp)).toBe(ALLOW_USED.v4 | ALLOW_USED.v6);
    expect(dp.disallow("198.18.0.0/24")).toBe(true);
    expect(allowUsed(dp)).toBe(ALLOW_USED.v6); // the v4 list is empty: its LPM lookup is skipped
    expect(run(dp, udp4("198.18.0.9"), T + 5n)).toBe(XDP_PASS);
    expect(dp.block("198.18.0.9", { reason: 1 })).toBe(true);
    expect(run(dp, udp4("198.18.0.9"), T + 5n)).toBe(XDP_DROP);
    expect(dp.disallow("2001:2::/48")).toBe(true);
    expect(allowUsed(dp)).toBe(0);
    expect(run(dp, udp6("2001:2::9"), T + 5n)).toBe(XDP_PASS);
    expect(dp.counters().allowed).toBe(4n); // nothing more matched
    // A CIDR again: its family's bit is set before it goes in, and the lookup is made again.
    dp.allow("2001:2::/48");
    expect(allowUsed(dp)).toBe(ALLOW_USED.v6);
    expect(run(dp, udp6("2001:2::9"), T + 5n)).toBe(XDP_PASS);
    expect(dp.counters().allowed).toBe(5n);
  });

  test("a block expires on time and is removed lazily (IPv4 and IPv6)", () => {
    using dp = load();
    dp.block("198.18.0.66", { reason: 2, ttlNs: 5n * S });
    dp.block("2001:2::66", { reason: 2, ttlNs: 5n * S });
    expect(run(dp, udp4("198.18.0.66"), T + 5n * S - 1n)).toBe(XDP_DROP);
    expect(run(dp, udp6("2001:2::66"), T + 5n * S - 1n)).toBe(XDP_DROP);
    expect(dp.blocks().length).toBe(2);
    expect(run(dp, udp4("198.18.0.66"), T + 5n * S)).toBe(XDP_PASS);
    expect(run(dp, udp6("2001:2::66"), T + 5n * S)).toBe(XDP_PASS);
    expect(dp.blocks()).toEqual([]);
    expect(dp.counters().block_expired).toBe(2n);
  });

  test("blocked sources are dropped even when their packets are malformed or fragments", () => {
    using dp = load();
    dp.block("198.18.0.66", { reason: 4 });
    const frag = frame({ src: "198.18.0.66", dst: "198.18.1.1", proto: "udp", frag: { offset: 100, more: false }, payload: 40 });
    const trunc = udp4("198.18.0.66").slice(0, 40);
    expect(run(dp, frag, T)).toBe(XDP_DROP);
    expect(run(dp, trunc, T)).toBe(XDP_DROP);
    expect(dp.counters().drop_reason_4).toBe(2n);
  });
});

describe("flow end rules", () => {
  const tcp = (flags: number, payload = 0) => frame({ src: "198.18.0.1", dst: "198.18.1.1", proto: "tcp", sport: 1234, dport: 22, flags, payload });

  test("idle and active timeouts end the flow on its next packet; the packet starts a new flow", () => {
    using dp = load({ idleTimeoutNs: 10n * S, activeTimeoutNs: 30n * S });
    run(dp, tcp(F.SYN), T);
    run(dp, tcp(F.ACK), T + 10n * S); // exactly the idle timeout: not more, still the same flow
    run(dp, tcp(F.ACK), T + 20n * S + 1000n); // idle > 10 s: ends
    expect(records(dp).map((r) => [r.endReason, r.features[2]])).toEqual([[EndReason.idle, 2n]]);
    for (let t = 21n; t <= 51n; t += 5n) run(dp, tcp(F.ACK, 10), T + t * S); // keeps it busy
    const rs = records(dp);
    expect(rs.map((r) => r.endReason)).toEqual([EndReason.active]);
    expect(rs[0]!.firstUs).toBe((T + 20n * S + 1000n) / 1000n);
  });

  test("the sweep ends idle flows without traffic, and flush ends the rest (eoc)", () => {
    using dp = load({ idleTimeoutNs: 10n * S });
    run(dp, udp4("198.18.0.1"), T);
    run(dp, udp4("198.18.0.2"), T + 8n * S);
    run(dp, udp6("2001:2::3"), T + 1n * S);
    const got: FlowRecord[] = [];
    dp.setClock(T + 15n * S);
    expect(dp.sweep("expire", (r) => got.push(r))).toBe(2);
    expect(got.map((r) => [r.family, r.endReason]).sort()).toEqual([[4, EndReason.idle], [6, EndReason.idle]]);
    expect(dp.liveFlows()).toBe(1);
    expect(dp.sweep("flush", (r) => got.push(r), 1)).toBe(1);
    expect(got.at(-1)!.endReason).toBe(EndReason.eoc);
    expect(dp.liveFlows()).toBe(0);
    const c = dp.counters();
    expect([c.flows_started, c.flows_ended, c.ended_idle, c.ended_eoc, c.records_emitted]).toEqual([3n, 3n, 2n, 1n, 3n]);
  });

  test("early end after N forward packets; backward packets do not count", () => {
    using dp = load({ earlyEndPkts: 3 });
    const back = frame({ src: "198.18.1.1", dst: "198.18.0.1", proto: "tcp", sport: 22, dport: 1234, flags: F.ACK });
    run(dp, tcp(F.SYN), T);
    run(dp, back, T + 1000n);
    run(dp, tcp(F.ACK), T + 2000n);
    expect(records(dp)).toEqual([]);
    run(dp, tcp(F.ACK), T + 3000n);
    expect(records(dp).map((r) => [r.endReason, r.features[2], r.srcPort])).toEqual([[EndReason.early, 3n, 1234]]);
  });

  test("an accumulator about to overflow ends the flow first (65535 PSH packets), kernel == reference", () => {
    using dp = load();
    const psh = tcp(F.PSH | F.ACK, 1);
    dp.setClock(T);
    dp.xdp.testRun({ data: psh, repeat: 65536 });
    const ref = new ReferenceDataPlane();
    for (let i = 0; i < 65536; i++) ref.process(psh, T);
    const ker = records(dp);
    expect(ker.map((r) => [r.endReason, r.features[2], r.features[13]])).toEqual([[EndReason.overflow, 65535n, 65535n]]);
    expect(ker.map(plain)).toEqual(ref.records.map(plain));
  });

  test("IPv6 flows are tracked with ports, payloads and extension headers", () => {
    using dp = load();
    const p = frame({ src: "2001:2::1", dst: "2001:2::2", proto: "tcp", sport: 5555, dport: 443, flags: F.SYN, ext: [[0, new Uint8Array(6)], [60, new Uint8Array(14)]] });
    const q = frame({ src: "2001:2::1", dst: "2001:2::2", proto: "tcp", sport: 5555, dport: 443, flags: F.FIN | F.ACK, payload: 300 });
    run(dp, p, T);
    run(dp, q, T + 5000n);
    const [r] = records(dp);
    expect(r).toMatchObject({ family: 6, srcPort: 5555, dstPort: 443, proto: 6, endReason: EndReason.fin });
    expect(r!.features.slice(2, 6)).toEqual([2n, 300n, 300n, 0n]);
  });

  test("IPv6 mobility (135), HIP (139) and shim6 (140) headers are walked to the transport header, kernel == reference", () => {
    using dp = load();
    const ref = new ReferenceDataPlane({});
    const chains: [number, Uint8Array][][] = [[[135, new Uint8Array(6)]], [[139, new Uint8Array(14)]], [[140, new Uint8Array(6)]], [[0, new Uint8Array(6)], [135, new Uint8Array(14)], [139, new Uint8Array(6)], [140, new Uint8Array(6)]]];
    chains.forEach((ext, i) => {
      const p = frame({ src: `2001:2::${i + 10}`, dst: "2001:2::2", proto: "udp", sport: 6000 + i, dport: 53, payload: 40 + i, ext });
      expect(run(dp, p, T + BigInt(i))).toBe(XDP_PASS);
      expect(ref.process(p, T + BigInt(i))).toBe(XDP_PASS);
    });
    const ker: FlowRecord[] = [];
    dp.sweep("flush", (r) => ker.push(r));
    ref.sweep(T + 10n, SweepMode.flush);
    const sorted = (rs: FlowRecord[]) => [...rs].sort((a, b) => a.srcPort - b.srcPort);
    expect(sorted(ker).map((r) => [r.family, r.proto, r.srcPort, r.dstPort, r.endReason, r.features[3]])).toEqual(chains.map((_, i) => [6, 17, 6000 + i, 53, EndReason.eoc, BigInt(40 + i)]));
    expect(sorted(ker).map(plain)).toEqual(sorted(ref.records).map(plain));
  });
});

describe("visibility", () => {
  test("records that do not fit the ring buffer are counted as lost, never silent", () => {
    using dp = load({ ringBytes: 4096 }); // 16 records of 256 bytes
    for (let i = 0; i < 40; i++) run(dp, frame({ src: "198.18.0.1", dst: "198.18.1.1", proto: "tcp", sport: 2000 + i, dport: 80, flags: F.RST }), T);
    const got = records(dp).length;
    const c = dp.counters();
    expect(got).toBeLessThan(40);
    expect(c.records_lost).toBe(BigInt(40 - got));
    expect(c.records_emitted! + c.records_lost!).toBe(40n);
    expect(dp.events.lost).toBe(c.records_lost!);
  });

  test("LRU evictions show up as started − ended − live", () => {
    using dp = load({ flowsV4: 128 });
    for (let i = 0; i < 2000; i++) run(dp, frame({ src: "198.18.0.1", dst: "198.18.1.1", proto: "udp", sport: 1000 + i, dport: 53 }), T);
    const c = dp.counters();
    expect(c.flows_started).toBe(2000n);
    expect(c.flows_live!).toBeLessThanOrEqual(128n);
    expect(c.flows_evicted).toBe(2000n - c.flows_live!);
  });
});

describe("pinned state", () => {
  test("with a pin directory, lists, flows and counters survive a reload", () => {
    ensureBpfBuilt();
    using pins = new PinDir("dataplane");
    {
      using dp = DataPlane.load({ testClock: true, flowsV4: 1024, flowsV6: 1024, pinDir: pins.path });
      dp.setClock(T);
      dp.block("198.18.0.66", { reason: 2 });
      dp.allow("2001:2::/48");
      run(dp, udp4("198.18.0.5"), T);
    }
    using dp = DataPlane.load({ testClock: true, flowsV4: 1024, flowsV6: 1024, pinDir: pins.path });
    // The new object's allow_used comes from the pinned lists: the v6 CIDR is still looked up.
    expect(allowUsed(dp)).toBe(ALLOW_USED.v6);
    expect(run(dp, udp6("2001:2::9"), T)).toBe(XDP_PASS);
    expect(dp.counters().allowed).toBe(1n);
    expect(dp.blocks().map((b) => b.addr)).toEqual(["198.18.0.66"]);
    expect(dp.liveFlows()).toBe(2); // the pinned one and the v6 packet's
    expect(dp.counters().pkts_seen).toBe(2n);
    expect(run(dp, udp4("198.18.0.66"), T)).toBe(XDP_DROP);
    expect(dp.disallow("2001:2::/48")).toBe(true);
  });

  test("a counters map pinned by the earlier layout (one entry per counter) is replaced, not refused", () => {
    ensureBpfBuilt();
    using pins = new PinDir("counters-v1");
    {
      // The fixture's pkt_count has that layout: a per-CPU array of one u64 per slot.
      using old = Collection.load(join(FIXTURES, "basic.bpf.o"), { pinMaps: { dir: pins.path, names: ["pkt_count"] } });
      old.map("pkt_count").update(u32Key(0), new Uint8Array(8).fill(1));
    }
    renameSync(pins.join("pkt_count"), pins.join(MAPS.counters));
    using dp = DataPlane.load({ testClock: true, flowsV4: 1024, flowsV6: 1024, pinDir: pins.path });
    expect(dp.coll.map(MAPS.counters).maxEntries).toBe(1);
    expect(dp.counters().pkts_seen).toBe(0n); // counters start again after that upgrade
    run(dp, udp4("198.18.0.5"), T);
    expect(dp.counters().pkts_seen).toBe(1n);
    // The new map is pinned: the next load re-uses it.
    using again = DataPlane.load({ testClock: true, flowsV4: 1024, flowsV6: 1024, pinDir: pins.path });
    expect(again.counters().pkts_seen).toBe(1n);
  });
});
