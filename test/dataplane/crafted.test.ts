// Acceptance: a crafted TCP flow whose CIC feature values are worked out by hand matches exactly,
// in the kernel (BPF_PROG_TEST_RUN, test clock) and in the reference.
import { describe, expect, test } from "bun:test";
import { EndReason } from "../../core/ebpf/abi.ts";
import { replayKernel, replayReference } from "../../plugins/extractors/xdp/replay.ts";
import { ACK_MAX_STEP } from "../../plugins/extractors/xdp/features.ts";
import { F, SYN_OPTIONS, TS_OPTIONS, frame } from "./packets.ts";
import { ensureBpfBuilt } from "./helpers.ts";

const T0 = 1_700_000_000_000_000_000n; // ns
const us = (n: number) => T0 + BigInt(n) * 1000n;
const C = { src: "198.18.0.1", dst: "198.18.1.1", sport: 40000, dport: 80, proto: "tcp" as const };
const S = { src: "198.18.1.1", dst: "198.18.0.1", sport: 80, dport: 40000, proto: "tcp" as const };

// Forward packets (client -> server) at 0, 2000, 2500(+7 ns), 12500, 13000, 20000 µs:
//   P1 SYN, 20 B of options (header 40), window 64240, no payload
//   P3 ACK, header 32, no payload, Ethernet-padded to 60 bytes (padding is not payload)
//   P4 PSH|ACK, header 32, 100 B: an HTTP request (REQUEST); its timestamp has 7 extra ns (truncated to µs first)
//   P5 URG|ACK, header 32, 1448 B, IPv4 options (8 B, not L4 header)
//   P6 PSH|ACK, header 32, 52 B, 802.1Q-tagged
//   P7 FIN|ACK, header 32: counted, then the flow ends (reason fin)
// plus a backward SYN-ACK at 1500 µs, which must not touch forward features.
// The first forward payload: a 37-byte request line with 3 raw metacharacters (' ) and () and 4
// encoded ones (%27 %3C %3E and the %25 of %2527), then headers whose "(x; y)" is past the line
// and whose %3b is one more encoded one, padded with 20 "a" to 100 bytes.
const REQUEST = new TextEncoder().encode("GET /s?q=%27%3Cb%3E%2527')(x HTTP/1.1\r\nHost: v\r\nUser-Agent: t (x; y)\r\nX: %3b\r\n\r\n" + "a".repeat(20));
// The server's sequence space starts 256 below 2^32, so the last ACK wraps past zero.
const ACK0 = 0xffff_ff00;
const packets = [
  { tsNs: us(0), data: frame({ ...C, flags: F.SYN, win: 64240, tcpOptions: SYN_OPTIONS }) },
  { tsNs: us(1500), data: frame({ ...S, flags: F.SYN | F.ACK, win: 65160, tcpOptions: SYN_OPTIONS, payload: 0 }) },
  { tsNs: us(2000), data: frame({ ...C, flags: F.ACK, ack: ACK0, tcpOptions: TS_OPTIONS, padTo: 60 }) },
  { tsNs: us(2500) + 7n, data: frame({ ...C, flags: F.PSH | F.ACK, ack: ACK0, tcpOptions: TS_OPTIONS, payload: REQUEST }) },
  { tsNs: us(12500), data: frame({ ...C, flags: F.URG | F.ACK, ack: ACK0 + 700, tcpOptions: TS_OPTIONS, payload: 1448, ipOptions: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0]) }) },
  { tsNs: us(13000), data: frame({ ...C, flags: F.PSH | F.ACK, ack: ACK0 + 500, tcpOptions: TS_OPTIONS, payload: 52, vlans: [[0x8100, 42]] }) },
  { tsNs: us(20000), data: frame({ ...C, flags: F.FIN | F.ACK, ack: (ACK0 + 2000) % 2 ** 32, tcpOptions: TS_OPTIONS }) },
];

// Worked by hand:
//   n = 6; payloads 0,0,100,1448,52,0: Σ = 1600, max 1448, min 0, mean floor(1600/6) = 266
//   Σp² = 10000 + 2096704 + 2704 = 2109408; var = floor((6·2109408 − 1600²)/(6·5))
//       = floor(10096448/30) = 336548; isqrt = 580 (580² = 336400 ≤ 336548 < 581² = 337561)
//   gaps 2000, 500, 10000, 500, 7000: total 20000, mean 4000, max 10000, min 500
//   Σg² = 153500000; var = floor((5·153500000 − 20000²)/(5·4)) = 18375000; isqrt = 4286
//   PSH 2, URG 1, RST 0; header 40 + 5·32 = 200; packets/s floor(6·10^6/20000) = 300
//   init window 64240; packets with data 3; min segment (header) 32; segment avg 266
//   source context (22..31), this being the source's only flow, started and ended 20 ms apart:
//   1 flow in the last 1 s and 10 s, 1 port and 1 address in the sketches, 1 flow to port 80's
//   bucket, 1 ended; it completed its handshake (an ACK follows the SYN), ended on FIN, has 6
//   packets (> 3): 0, 0, 0; payload per flow 1600
//   first payload (32..34): P4, line 37 bytes, 3 raw metacharacters in it, 5 encoded in the window
//   (P5's 1448 bytes are never scanned: the first payload was P4's)
//   acknowledged (35..36): P3 sets the base (2^32 − 256), P5 moves it 700 on, P6's 500 is behind
//   that (ignored), P7's wraps past 0 to base + 2000: 2000, and 2000 per flow for the source
const EXPECTED = [
  80n, 6n, 6n, 1600n, 1448n, 0n, 266n, 580n, 20000n, 4000n, 4286n, 10000n, 500n, 2n, 1n, 0n, 200n, 300n, 64240n, 3n, 32n, 266n,
  1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n, 0n, 1600n,
  37n, 3n, 5n,
  2000n, 2000n,
];

describe("a hand-computed TCP flow", () => {
  for (const side of ["reference", "kernel"] as const) {
    test(`${side}: every feature matches the hand computation`, () => {
      if (side === "kernel") ensureBpfBuilt();
      const res = (side === "kernel" ? replayKernel : replayReference)(packets, {});
      const fwd = res.records.filter((r) => r.srcPort === 40000);
      expect(fwd.length).toBe(1);
      const r = fwd[0]!;
      expect(r.endReason).toBe(EndReason.fin);
      expect(Array.from(r.src)).toEqual([198, 18, 0, 1]);
      expect(Array.from(r.dst)).toEqual([198, 18, 1, 1]);
      expect(r.dstPort).toBe(80);
      expect(r.firstUs).toBe(T0 / 1000n);
      expect(r.lastUs).toBe(T0 / 1000n + 20000n);
      expect(r.features).toEqual(EXPECTED);
      // The backward SYN-ACK was part of this flow, so it produced no record of its own.
      expect(res.records.length).toBe(1);
    });
  }

  test("an ACK that jumps more than 16 MiB past the furthest so far is not counted (a forged number)", () => {
    ensureBpfBuilt();
    const B = 0x7000_0000;
    const STEP = ACK_MAX_STEP; // 16 MiB, XIDS_ACK_MAX_STEP (abi.test.ts checks the two agree)
    const acks = [B, B + STEP + 1, B + 1000, B + 1000 + STEP, B + 1000 + 2 * STEP + 1, B + 0x7fff_0000];
    const pk = acks.map((ack, i) => ({ tsNs: us(i * 10), data: frame({ ...C, flags: F.ACK, ack }) }));
    pk.push({ tsNs: us(100), data: frame({ ...C, flags: F.FIN | F.ACK, ack: B + 1000 + STEP + 5 }) });
    for (const replay of [replayReference, replayKernel]) {
      const rs = replay(pk, {}).records;
      expect(rs.length).toBe(1);
      // B sets the base; +STEP+1 is too far (ignored); +1000 counts; +STEP more is exactly the
      // bound (counts); +STEP+1 past that and the near-2^31 jump are forged-looking (ignored);
      // the FIN's +5 is a small step on: 1000 + STEP + 5, the source's only flow.
      expect([rs[0]!.features[35], rs[0]!.features[36]]).toEqual([BigInt(1000 + STEP + 5), BigInt(1000 + STEP + 5)]);
    }
  });

  test("RST ends the flow with its packet counted (Fwd RST Flags = 1); the source context counts both flows", () => {
    ensureBpfBuilt();
    const pk = [
      { tsNs: us(0), data: frame({ ...C, flags: F.SYN }) },
      { tsNs: us(10), data: frame({ ...C, flags: F.RST }) },
      { tsNs: us(20), data: frame({ ...C, flags: F.SYN }) },
    ];
    for (const replay of [replayReference, replayKernel]) {
      const rs = replay(pk, {}).records;
      expect(rs.map((r) => [r.endReason, r.features[2], r.features[15]])).toEqual([
        [EndReason.rst, 2n, 1n],
        [EndReason.eoc, 1n, 0n],
      ]);
      // Flow 1 (SYN, RST: no ACK, so no handshake; short; ended by RST). Flow 2 (a lone SYN)
      // sees flow 1's end and its own: 2 started, 2 ended, 2 without handshake, 1 RST, 2 short.
      expect(rs.map((r) => r.features.slice(22, 32))).toEqual([
        [1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n],
        [2n, 2n, 1n, 1n, 2n, 2n, 2n, 1n, 2n, 0n],
      ]);
    }
  });
});
