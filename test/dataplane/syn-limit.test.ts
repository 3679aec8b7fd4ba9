// The per-destination SYN limit (cfg_syn_interval_ns / cfg_syn_burst_ns, GCRA per CPU), packet by
// packet under BPF_PROG_TEST_RUN with the test clock: what a random-source flood gets through,
// and what it never touches (other destinations, allow-listed sources, established traffic).
import { expect, test } from "bun:test";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { XDP_DROP, XDP_PASS } from "../../plugins/extractors/xdp/reference.ts";
import { F, frame } from "./packets.ts";
import { ensureBpfBuilt } from "./helpers.ts";

const T = 1_000_000_000_000n;
const MS = 1_000_000n;

test("at most rate x 1 s of SYNs at once per destination, then one per interval; other traffic untouched", () => {
  ensureBpfBuilt();
  using dp = DataPlane.load({ testClock: true, synLimitPerSecond: 10 }); // one per 100 ms, 1 s of burst
  const syn = (src: string, dst: string, sport: number, at: bigint, flags = F.SYN) => {
    dp.setClock(at);
    return dp.xdp.testRun({ data: frame({ src, dst, proto: "tcp", sport, dport: 80, flags }) }).retval;
  };
  const V = "198.18.1.1";
  // A flood from 20 spoofed sources at one instant: the burst (1 s at 10/s, plus the first) passes.
  const first = Array.from({ length: 20 }, (_, i) => syn(`198.19.0.${i + 1}`, V, 40000 + i, T));
  expect(first.filter((v) => v === XDP_PASS).length).toBe(11);
  expect(first.slice(0, 11).every((v) => v === XDP_PASS)).toBe(true);
  expect(dp.counter("syn_limited")).toBe(9n);
  expect(dp.counter("flows_started")).toBe(11n);
  // Another destination has its own budget; an allow-listed source is never limited; SYN-ACKs
  // and data of existing connections are not SYNs.
  expect(syn("198.19.1.1", "198.18.1.2", 40100, T)).toBe(XDP_PASS);
  dp.allow("198.18.7.0/24");
  expect(syn("198.18.7.9", V, 40101, T)).toBe(XDP_PASS);
  expect(syn("198.19.0.1", V, 40000, T, F.SYN | F.ACK)).toBe(XDP_PASS);
  expect(syn("198.19.0.1", V, 40000, T, F.ACK)).toBe(XDP_PASS);
  expect(syn("198.19.2.1", V, 40102, T)).toBe(XDP_DROP);
  // 500 ms later, five more intervals have passed.
  const later = Array.from({ length: 10 }, (_, i) => syn(`198.19.3.${i + 1}`, V, 41000 + i, T + 500n * MS));
  expect(later.filter((v) => v === XDP_PASS).length).toBe(5);
  expect(dp.counter("syn_limited")).toBe(9n + 1n + 5n);
});

test("off by default: every SYN makes its flow", () => {
  ensureBpfBuilt();
  using dp = DataPlane.load({ testClock: true });
  dp.setClock(T);
  for (let i = 0; i < 50; i++) expect(dp.xdp.testRun({ data: frame({ src: `198.19.0.${i + 1}`, dst: "198.18.1.1", proto: "tcp", sport: 40000, dport: 80, flags: F.SYN }) }).retval).toBe(XDP_PASS);
  expect(dp.counter("syn_limited")).toBe(0n);
  expect(dp.counter("flows_started")).toBe(50n);
});
