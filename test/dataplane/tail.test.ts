// A connection's closing packets after its flow ended on FIN/RST: counted, not made a new flow
// (cfg_tail_absorb_ns), unless they open a new connection (SYN), carry data, or come too late.
// With the window at 0 the data plane behaves as CICFlowMeter does. Kernel and reference agree.
import { describe, expect, test } from "bun:test";
import { Counter, EndReason } from "../../core/ebpf/abi.ts";
import { replayKernel, replayReference, type ReplayPacket } from "../../plugins/extractors/xdp/replay.ts";
import { F, frame } from "./packets.ts";

const C = "198.18.0.1", S = "198.18.0.2";
const at = (ms: number, spec: Parameters<typeof frame>[0]): ReplayPacket => ({ tsNs: BigInt(ms) * 1_000_000n, data: frame(spec) });
const tcp = (flags: number, payload = 0, sport = 40000) => ({ src: C, dst: S, proto: "tcp" as const, sport, dport: 80, flags, payload });

// A client conversation ending with its FIN, then what follows a close on the wire.
const conversation: ReplayPacket[] = [
  at(0, tcp(F.SYN)),
  at(1, tcp(F.ACK)),
  at(2, tcp(F.ACK | F.PSH, 120)),
  at(3, tcp(F.ACK | F.FIN)),
  at(4, tcp(F.ACK)),            // ACK of the server's FIN: a tail
  at(900, tcp(F.RST)),          // a late RST: a tail
  at(7000, tcp(F.ACK)),         // after the 5 s window: a new (one-packet) flow again
  at(7001, tcp(F.SYN, 0, 40001)), // a new connection on another port: its own flow
];

describe.each([["kernel", replayKernel], ["reference", replayReference]] as const)("%s", (_, replay) => {
  test("tail packets within the window are absorbed and counted", () => {
    const res = replay(conversation, {});
    const ends = res.records.map((r) => [r.srcPort, Number(r.features[2]), r.endReason]);
    expect(ends).toEqual(expect.arrayContaining([[40000, 4, EndReason.fin], [40000, 1, EndReason.eoc], [40001, 1, EndReason.eoc]]));
    expect(res.records.length).toBe(3);
    expect(res.counters[Counter.tail_absorbed]).toBe(2n);
    expect(res.actions.every((a) => a === 2)).toBe(true);
  });

  test("with the window at 0 every tail is a new flow, as in CICFlowMeter", () => {
    const res = replay(conversation, { tailAbsorbNs: 0n });
    expect(res.counters[Counter.tail_absorbed]).toBe(0n);
    // The FIN flow; the ACK at 4 ms that the RST at 900 ms ends; the ACK at 7 s; the SYN.
    expect(res.records.map((r) => [r.srcPort, Number(r.features[2]), r.endReason]).sort()).toEqual(
      [[40000, 1, EndReason.eoc], [40000, 2, EndReason.rst], [40000, 4, EndReason.fin], [40001, 1, EndReason.eoc]].sort(),
    );
  });

  test("data or a SYN after the close is a new flow, not a tail", () => {
    const res = replay([...conversation.slice(0, 4), at(5, tcp(F.ACK | F.PSH, 10)), at(6, tcp(F.SYN))], {});
    expect(res.counters[Counter.tail_absorbed]).toBe(0n);
    expect(res.records.length).toBe(2);
  });
});
