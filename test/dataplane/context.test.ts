// The source context (FEATURES.md 22..31) packet by packet under BPF_PROG_TEST_RUN with the test
// clock: what each feature counts for a scanner, a SYN flood and a client, how the windows slide
// and forget, that flows ending together in one sweep all see the same history, and that the
// kernel and the reference agree on every value. Eviction (the LRU map full) is the kernel's own.
import { describe, expect, test } from "bun:test";
import { Counter, MAPS, type FlowRecord } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { replayKernel, replayReference, sortRecords, type ReplayPacket } from "../../plugins/extractors/xdp/replay.ts";
import { F, frame } from "./packets.ts";
import { ensureBpfBuilt, expectSameRecords } from "./helpers.ts";

const T = 1_000_000_000_000n;
const MS = 1_000_000n;
const VICTIM = "198.18.1.1";
const ctx = (r: FlowRecord) => r.features.slice(22, 32).map(Number);

function both(packets: ReplayPacket[]): FlowRecord[] {
  ensureBpfBuilt();
  const opts = { idleTimeoutNs: 2_000n * MS, activeTimeoutNs: 3_000n * MS, sweepIntervalNs: 250n * MS };
  const k = replayKernel(packets, opts);
  const r = replayReference(packets, opts);
  expectSameRecords(k.records, r.records, "context");
  return sortRecords(k.records);
}

describe("source context", () => {
  test("a SYN scan: flows, ports, no-handshake and short flows grow probe after probe; one address", () => {
    // 60 SYN probes to 60 ports, 100 ms apart; each ends on the 2 s idle timeout in a later
    // sweep (the replay sweeps every 250 ms of capture time), so each sees the ones before.
    const packets = Array.from({ length: 60 }, (_, i) => ({ tsNs: T + BigInt(i) * 100n * MS, data: frame({ src: "198.18.0.7", dst: VICTIM, proto: "tcp", sport: 50000, dport: 1000 + i * 37, flags: F.SYN }) }));
    const rs = both(packets);
    expect(rs.length).toBe(60);
    const c = rs.map(ctx);
    // Started flows and distinct ports count at once; ends lag by the 2 s idle timeout.
    for (let i = 1; i < c.length; i++) for (const f of [1, 2, 5, 6, 8]) expect(c[i]![f]!).toBeGreaterThanOrEqual(c[i - 1]![f]!);
    const mid = c[40]!;
    expect(mid[1]).toBeGreaterThanOrEqual(41); // Src Flows 10s: at least the 41 started by then
    expect(mid[2]).toBeGreaterThanOrEqual(30); // distinct ports (a 128-bit sketch: a few collide)
    expect(mid[3]).toBe(1); // one destination address
    expect(mid[6]).toBe(mid[5]); // every ended one a lone SYN: no handshake ...
    expect(mid[8]).toBe(mid[5]); // ... and short
    expect([mid[7], mid[9]]).toEqual([0, 0]); // no RST, no payload
    expect(mid[5]).toBeGreaterThan(15);
  });

  test("a client's completed connections: no handshake 0, ended by FIN, payload per flow", () => {
    const src = "198.18.0.8";
    const packets: ReplayPacket[] = [];
    for (let c = 0; c < 5; c++) {
      const t0 = T + BigInt(c) * 300n * MS, sport = 40000 + c;
      const base = { src, dst: VICTIM, proto: "tcp" as const, sport, dport: 443 };
      packets.push({ tsNs: t0, data: frame({ ...base, flags: F.SYN }) });
      packets.push({ tsNs: t0 + 1n * MS, data: frame({ ...base, flags: F.ACK }) });
      packets.push({ tsNs: t0 + 2n * MS, data: frame({ ...base, flags: F.PSH | F.ACK, payload: 200 }) });
      packets.push({ tsNs: t0 + 3n * MS, data: frame({ ...base, flags: F.FIN | F.ACK }) });
    }
    const rs = both(packets);
    // Connection i (at i * 300 ms) sees i + 1 started and ended; its port and address once; a
    // handshake each time (ACK after SYN), FIN ends, 4 packets (not short), 200 B per flow. At
    // 1.2 s the short window has rolled: 1 + floor(4 * 0.8) = 4 flows in the last second.
    expect(rs.map((r) => ctx(r))).toEqual([
      [1, 1, 1, 1, 1, 1, 0, 0, 0, 200],
      [2, 2, 1, 1, 2, 2, 0, 0, 0, 200],
      [3, 3, 1, 1, 3, 3, 0, 0, 0, 200],
      [4, 4, 1, 1, 4, 4, 0, 0, 0, 200],
      [4, 5, 1, 1, 5, 5, 0, 0, 0, 200],
    ]);
  });

  test("the windows slide and forget: half a window later the counts have halved, two windows later they are gone", () => {
    const src = "198.18.0.9";
    // Lone FIN packets: each is a flow that starts and ends at once (end reason FIN).
    const fin = (ms: bigint, sport: number) => ({ tsNs: T + ms * MS, data: frame({ src, dst: VICTIM, proto: "tcp", sport, dport: 53, flags: F.FIN }) });
    const packets = [...Array.from({ length: 10 }, (_, i) => fin(BigInt(i) * 100n, 5000 + i)), fin(15_000n, 6000), fin(40_000n, 6001)];
    const rs = both(packets);
    const at = (sport: number) => ctx(rs.find((r) => r.srcPort === sport)!);
    // The 10th flow: 10 started within 1 s, 10 ended (the 9 before and itself).
    expect(at(5009)).toEqual([10, 10, 1, 1, 10, 10, 0, 0, 10, 0]);
    // At 15 s the long window rolled once (start 10 s): the first 10 weigh (10 - 5) / 10 = 1/2.
    // The short window was cleared (more than 2 s later).
    expect(at(6000)).toEqual([1, 1 + 5, 1, 1, 1 + 5, 1 + 5, 0, 0, 1 + 5, 0]);
    // At 40 s both windows are stale: only the flow itself.
    expect(at(6001)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 0]);
  });

  test("flows ending together in one sweep all see the same history, whatever the order", () => {
    // 30 UDP flows from one source, all ending in the same expire sweep.
    const src = "198.18.0.10";
    const packets = Array.from({ length: 30 }, (_, i) => ({ tsNs: T + BigInt(i) * MS, data: frame({ src, dst: VICTIM, proto: "udp", sport: 7000 + i, dport: 9, payload: 10 }) }));
    packets.push({ tsNs: T + 2_600n * MS, data: frame({ src: "198.18.0.11", dst: VICTIM, proto: "udp", sport: 1, dport: 9 }) }); // moves the clock past idle
    const rs = both(packets).filter((r) => frameSrc(r) === src);
    expect(new Set(rs.map((r) => ctx(r)[5])).size).toBe(1); // the same "ended" for all 30
    expect(ctx(rs[0]!)[5]).toBe(1); // each: the history before the instant (none ended) + itself
  });

  test("eviction: more sources than the map holds are counted (ctx_new) and the map stays at its size", () => {
    ensureBpfBuilt();
    const small = 64;
    using dp2 = DataPlane.load({ testClock: true, flowsV4: 4096, sourceContexts: small });
    for (let i = 0; i < 500; i++) {
      dp2.setClock(T + BigInt(i) * MS);
      dp2.xdp.testRun({ data: frame({ src: `198.19.${i >> 8}.${i & 255}`, dst: VICTIM, proto: "tcp", sport: 1, dport: 80, flags: F.SYN }) });
    }
    expect(dp2.counter("ctx_new")).toBe(500n);
    expect(dp2.counter("ctx_insert_failed")).toBe(0n);
    const live = [...dp2.coll.map(MAPS.srcctx).entries()].length;
    expect(live).toBeLessThanOrEqual(small);
    expect(Counter.ctx_new).toBe(48);
  });
});

function frameSrc(r: FlowRecord): string {
  return Array.from(r.src.subarray(0, 4)).join(".");
}
