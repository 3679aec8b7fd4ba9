// The throughput bench end to end on the real kernel (veth pair between two namespaces, iperf3,
// native XDP): every figure is there and a positive number, GRO is on on the receiving veth, and
// the sender's TSO is what the BENCHMARKS.md explanation says (off while native XDP is attached
// to its peer, on without). Timings are never compared with anything.
import { expect, test } from "bun:test";
import { benchThroughput } from "./throughput.ts";

test("benchThroughput: TCP and 64 B UDP figures per mode, GRO on the receiver, sender GSO off under native XDP", async () => {
  // The test suite's own namespace prefix, and no clean-up of "xidsb" ones: a bench may be running.
  const t = await benchThroughput({ seconds: 1, runs: 2, log: () => {}, removeStale: false, prefix: "xidst" });
  expect(t.note).toBeNull();
  expect(t.xdp_mode).toBe("native");
  expect(t.receiver_gro).toBe(true);
  expect(t.baseline_program).toBe("bench_xdp_pass_frags");
  for (const mode of ["none", "xdp_pass", "xids"] as const) {
    expect(t.tcp_bps[mode], `tcp ${mode}`).toBeGreaterThan(0);
    expect(t.udp_pps[mode], `udp ${mode}`).toBeGreaterThan(0);
    const [lo, hi] = t.tcp_spread[mode]!;
    expect(lo, `tcp spread ${mode}`).toBeLessThanOrEqual(hi);
  }
  for (const k of ["throughput_ratio", "throughput_ratio_vs_xdp_pass", "pps_ratio", "pps_ratio_vs_xdp_pass"] as const) {
    expect(typeof t[k], k).toBe("number");
    expect(Number.isFinite(t[k]) && t[k]! > 0, k).toBe(true);
  }
  for (const k of ["tcp", "udp"] as const) {
    expect(t.round_ratios_vs_xdp_pass[k].length, k).toBe(2);
    for (const r of t.round_ratios_vs_xdp_pass[k]) expect(Number.isFinite(r) && r > 0, k).toBe(true);
  }
  expect(t.sender_tso).toEqual({ none: "on", xdp_pass: "off", xids: "off" });
}, 90_000);
