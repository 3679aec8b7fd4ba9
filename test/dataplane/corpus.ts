// A generated corpus of well-formed, option-laden, fragmented, truncated and malformed frames, each
// labelled with what a correct parser must make of it. Deterministic (seeded), bounded in size.
import { ParseStatus } from "../../plugins/extractors/xdp/reference.ts";
import { F, frame, rng, type FrameSpec } from "./packets.ts";

export interface Labelled {
  tsNs: bigint;
  data: Uint8Array;
  /** what it is, for failure messages */
  kind: string;
  status: number;
  /** for status ok: the L4 fields a correct parse yields */
  expect?: { sport: number; dport: number; payload: number; l4Hdr: number; proto: number };
}

const V4 = ["198.18.0.1", "198.18.0.2", "198.18.7.9", "198.19.255.254"];
const V6 = ["2001:2::1", "2001:2::2", "2001:2:0:1::7", "2001:2:0:ffff::fe"];
const PORTS = [80, 443, 53, 40000, 40001, 61000];

export function generateCorpus(count: number, seed = 1): Labelled[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(0, 255));
  let ts = 1_650_000_000_000_000_000n;
  const out: Labelled[] = [];

  const tcpOptions = () => {
    // Real option kinds (NOP, MSS, WS, SACK-permitted, timestamps, EOL), 0..40 bytes.
    const kinds = [[1], [2, 4, 5, 0xb4], [3, 3, 7], [4, 2], [8, 10, 0, 0, 0, 1, 0, 0, 0, 2], [0]];
    const o: number[] = [];
    const want = int(0, 10) * 4;
    while (o.length < want) o.push(...pick(kinds));
    return Uint8Array.from(o.slice(0, want));
  };
  const ipOptions = () => Uint8Array.from({ length: int(0, 10) * 4 }, () => 1); // NOPs (up to 40 B)
  const vlans = (): [number, number][] => {
    const n = pick([0, 0, 0, 1, 2]);
    return Array.from({ length: n }, (_, i) => [n === 2 && i === 0 ? 0x88a8 : 0x8100, int(1, 4094)] as [number, number]);
  };
  const ext6 = (): [number, Uint8Array][] => {
    const list: [number, Uint8Array][] = [];
    if (r() < 0.3) list.push([0, bytes(int(0, 3) * 8 + 6)]); // hop-by-hop
    if (r() < 0.3) list.push([60, bytes(int(0, 2) * 8 + 6)]); // destination options
    if (r() < 0.2) list.push([43, bytes(6)]); // routing
    if (r() < 0.15) list.push([51, bytes(int(1, 4) * 4 + 2)]); // AH
    return list;
  };

  const valid = (): { spec: FrameSpec; family: 4 | 6 } => {
    const family: 4 | 6 = r() < 0.6 ? 4 : 6;
    const addrs = family === 4 ? V4 : V6;
    const [src, dst] = r() < 0.5 ? [pick(addrs), pick(addrs)] : [addrs[0]!, addrs[1]!];
    const proto = pick(["tcp", "tcp", "tcp", "udp", "udp", "icmp"] as const);
    const spec: FrameSpec = {
      src,
      dst,
      proto,
      sport: pick(PORTS),
      dport: pick(PORTS),
      payload: pick([0, 0, int(1, 64), int(65, 1400)]),
      vlans: vlans(),
      padTo: r() < 0.3 ? 60 : 0,
    };
    if (proto === "tcp") {
      const fl = [F.ACK, F.ACK | F.PSH, F.SYN, F.ACK | F.URG, F.PSH | F.URG | F.ACK, F.FIN | F.ACK, F.RST, F.ECE | F.CWR | F.ACK];
      spec.flags = r() < 0.85 ? pick(fl.slice(0, 5).concat(fl.slice(7))) : pick(fl);
      spec.win = int(0, 65535);
      spec.tcpOptions = tcpOptions();
    }
    if (family === 4 && r() < 0.3) spec.ipOptions = ipOptions();
    if (family === 6) spec.ext = ext6();
    // A first fragment (offset 0, more fragments) parses as L4 with its own bytes.
    if (r() < 0.05) spec.frag = { offset: 0, more: true, id: int(1, 65535) };
    return { spec, family };
  };

  const ok = (spec: FrameSpec, family: 4 | 6): Labelled["expect"] => {
    const p = typeof spec.payload === "number" ? spec.payload : (spec.payload?.length ?? 0);
    const l4Hdr = spec.proto === "tcp" ? 20 + Math.ceil((spec.tcpOptions?.length ?? 0) / 4) * 4 : 8;
    const icmp = spec.proto === "icmp";
    return {
      sport: icmp ? 0 : spec.sport!,
      dport: icmp ? 0 : spec.dport!,
      payload: p,
      l4Hdr,
      proto: spec.proto === "tcp" ? 6 : spec.proto === "udp" ? 17 : family === 4 ? 1 : 58,
    };
  };

  const l3Off = (spec: FrameSpec) => 14 + 4 * (spec.vlans?.length ?? 0);
  const set16 = (b: Uint8Array, o: number, v: number) => ((b[o] = v >> 8), (b[o + 1] = v & 0xff));

  for (let i = 0; i < count; i++) {
    // Mostly small gaps, some long enough to hit the corpus idle (1 s) and active (5 s) timeouts.
    ts += BigInt(pick([int(1, 2000), int(1, 200_000), int(1, 200_000), int(900_000, 1_500_000)])) * 1000n + BigInt(int(0, 999));
    const roll = r();
    const { spec, family } = valid();
    const push = (data: Uint8Array, kind: string, status: number, expect?: Labelled["expect"]) =>
      out.push(expect ? { tsNs: ts, data, kind, status, expect } : { tsNs: ts, data, kind, status });

    if (roll < 0.55) {
      push(frame(spec), `valid ${family} ${spec.proto}`, ParseStatus.ok, ok(spec, family));
    } else if (roll < 0.65) {
      // Truncated anywhere inside the IP packet: the IP length no longer fits the frame.
      const full = frame({ ...spec, padTo: 0 });
      const cut = int(14, full.length - 1);
      push(full.slice(0, cut), `truncated ${family} at ${cut}/${full.length}`, ParseStatus.malformed);
    } else if (roll < 0.72) {
      // Non-first fragment: never parsed as L4, whatever its bytes look like.
      const f = frame({ ...spec, frag: { offset: int(1, 8000), more: r() < 0.5, id: int(1, 65535) } });
      push(f, `non-first fragment ${family}`, ParseStatus.fragment);
    } else if (roll < 0.76) {
      push(frame({ ...spec, proto: family === 4 ? pick([47, 50, 58, 132]) : pick([50, 59, 1, 47]), payload: int(0, 64) }), `other L4 ${family}`, ParseStatus.otherL4);
    } else if (roll < 0.78) {
      const f = frame(spec);
      set16(f, 12, pick([0x0806, 0x88cc, 0x8864, 0x0600]));
      push(f, "non-IP", ParseStatus.nonIp);
    } else {
      // Field-level malformations, each with a known outcome.
      const f = frame({ ...spec, padTo: 0 });
      const o = l3Off(spec);
      const which = int(0, 9);
      const l4 = (): number => {
        if (family === 4) return o + (f[o]! & 0x0f) * 4;
        let off = o + 40;
        let nh = f[o + 6]!;
        while ([0, 43, 44, 51, 60].includes(nh)) {
          const len = nh === 44 ? 8 : nh === 51 ? (f[off + 1]! + 2) * 4 : (f[off + 1]! + 1) * 8;
          nh = f[off]!;
          off += len;
        }
        return off;
      };
      if (which === 0) {
        f[o] = (family === 4 ? 0x60 : 0x40) | (f[o]! & 0x0f); // wrong IP version for the EtherType
        push(f, `wrong version ${family}`, ParseStatus.malformed);
      } else if (which === 1 && family === 4) {
        f[o] = 0x40 | int(0, 4); // IHL < 5
        push(f, "ihl<5", ParseStatus.malformed);
      } else if (which === 2 && family === 4) {
        set16(f, o + 2, int(0, (f[o]! & 0x0f) * 4 - 1)); // total length < header
        push(f, "tot_len<ihl", ParseStatus.malformed);
      } else if (which === 3) {
        // IP length claims more than the frame holds.
        if (family === 4) set16(f, o + 2, f.length - o + int(1, 200));
        else set16(f, o + 4, f.length - o - 40 + int(1, 200));
        push(f, `length beyond frame ${family}`, ParseStatus.malformed);
      } else if (which === 4 && spec.proto === "tcp" && !spec.frag) {
        const t = l4();
        f[t + 12] = (int(0, 4) << 4) | (f[t + 12]! & 0x0f); // data offset < 5
        push(f, "tcp doff<5", ParseStatus.malformed);
      } else if (which === 5 && spec.proto === "tcp" && !spec.frag) {
        const t = l4();
        const l4len = f.length - t;
        if (l4len >= 60) {
          push(frame(spec), `valid ${family} tcp`, ParseStatus.ok, ok(spec, family));
          continue;
        }
        f[t + 12] = (15 << 4) | (f[t + 12]! & 0x0f); // header longer than the segment
        push(f, `tcp doff beyond segment (${l4len} B)`, ParseStatus.malformed);
      } else if (which === 6) {
        // A three-tag stack.
        const g = frame({ ...spec, vlans: [[0x88a8, 1], [0x8100, 2], [0x8100, 3]] });
        push(g, "three VLAN tags", ParseStatus.malformed);
      } else if (which === 7 && family === 6) {
        // Nine extension headers: more than the parser walks.
        const g = frame({ ...spec, ext: Array.from({ length: 9 }, () => [60, new Uint8Array(6)] as [number, Uint8Array]) });
        push(g, "9 ipv6 ext headers", ParseStatus.malformed);
      } else if (which === 8 && family === 6) {
        // Extension headers that push L4 beyond the header-offset limit.
        const g = frame({ ...spec, ext: [[60, new Uint8Array(1022)], [60, new Uint8Array(6)]] });
        push(g, "L4 beyond 1024 B", ParseStatus.malformed);
      } else if (which === 9) {
        // L4 shorter than its fixed header: IP length cut to leave 1..7 bytes (UDP/ICMP) or 1..19 (TCP).
        const t = l4();
        const min = spec.proto === "tcp" ? 20 : 8;
        const keep = int(0, min - 1);
        if (family === 4) set16(f, o + 2, t - o + keep);
        else set16(f, o + 4, t - o - 40 + keep);
        push(f, `short ${spec.proto} (${keep} B)`, ParseStatus.malformed);
      } else {
        push(frame(spec), `valid ${family} ${spec.proto}`, ParseStatus.ok, ok(spec, family));
      }
    }
  }
  return out;
}
