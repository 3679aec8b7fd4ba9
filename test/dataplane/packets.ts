// A frame builder for data-plane tests: Ethernet with 802.1Q/802.1ad tags, IPv4 with options and
// fragments, IPv6 with extension headers, TCP with options, UDP, ICMP/ICMPv6. Checksums are
// filled where cheap (IPv4 header) — the data plane never checks them.
import { parseIp } from "../../core/ebpf/addr.ts";

export interface FrameSpec {
  /** VLAN tags outermost first; each is [tpid, vid] (tpid 0x8100 or 0x88a8). */
  vlans?: [number, number][];
  /** Overrides the EtherType after the tags. */
  etherType?: number;
  src: string;
  dst: string;
  /** IPv4 options (padded to 4 bytes). */
  ipOptions?: Uint8Array;
  /** IPv6 extension headers, in order: [type, body]; body excludes the next-header/len bytes. */
  ext?: [number, Uint8Array][];
  /** IPv4: offset in 8-byte units and the MF flag. IPv6: adds a fragment header. */
  frag?: { offset: number; more: boolean; id?: number };
  proto: "tcp" | "udp" | "icmp" | number;
  sport?: number;
  dport?: number;
  /** TCP flags byte */
  flags?: number;
  /** ICMP / ICMPv6 type (default: echo request) */
  icmpType?: number;
  win?: number;
  /** TCP acknowledgment number (default 0) */
  ack?: number;
  tcpOptions?: Uint8Array;
  payload?: number | Uint8Array;
  /** Ethernet padding to this minimum frame size (60 = real minimum without FCS). */
  padTo?: number;
}

export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 };

function csum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function payloadBytes(p: number | Uint8Array | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  if (typeof p === "number") return Uint8Array.from({ length: p }, (_, i) => (i * 7 + 3) & 0xff);
  return p;
}

/** The L4 header + payload for a spec (family decides the ICMP type). */
export function l4Bytes(s: FrameSpec, family: 4 | 6): { proto: number; bytes: Uint8Array } {
  const payload = payloadBytes(s.payload);
  if (s.proto === "tcp") {
    const opts = s.tcpOptions ?? new Uint8Array(0);
    const optLen = Math.ceil(opts.length / 4) * 4;
    const h = new Uint8Array(20 + optLen);
    const v = new DataView(h.buffer);
    v.setUint16(0, s.sport ?? 40000);
    v.setUint16(2, s.dport ?? 80);
    v.setUint32(4, 1000);
    v.setUint32(8, (s.ack ?? 0) >>> 0);
    h[12] = ((20 + optLen) / 4) << 4;
    h[13] = s.flags ?? F.ACK;
    v.setUint16(14, s.win ?? 65535);
    h.set(opts, 20);
    return { proto: 6, bytes: cat([h, payload]) };
  }
  if (s.proto === "udp") {
    const h = new Uint8Array(8);
    const v = new DataView(h.buffer);
    v.setUint16(0, s.sport ?? 40000);
    v.setUint16(2, s.dport ?? 53);
    v.setUint16(4, 8 + payload.length);
    return { proto: 17, bytes: cat([h, payload]) };
  }
  if (s.proto === "icmp") {
    const h = new Uint8Array(8);
    h[0] = s.icmpType ?? (family === 4 ? 8 : 128); // echo request
    return { proto: family === 4 ? 1 : 58, bytes: cat([h, payload]) };
  }
  return { proto: s.proto, bytes: payload };
}

export function frame(s: FrameSpec): Uint8Array {
  const src = parseIp(s.src);
  const dst = parseIp(s.dst);
  const family = src.family;
  const l4 = l4Bytes(s, family);
  let l3: Uint8Array;
  if (family === 4) {
    const opts = s.ipOptions ?? new Uint8Array(0);
    const optLen = Math.ceil(opts.length / 4) * 4;
    const h = new Uint8Array(20 + optLen);
    const v = new DataView(h.buffer);
    h[0] = 0x40 | ((20 + optLen) / 4);
    v.setUint16(2, h.length + l4.bytes.length);
    v.setUint16(4, s.frag?.id ?? 1);
    v.setUint16(6, (s.frag?.more ? 0x2000 : 0) | ((s.frag?.offset ?? 0) & 0x1fff));
    h[8] = 64;
    h[9] = l4.proto;
    h.set(src.bytes, 12);
    h.set(dst.bytes, 16);
    h.set(opts, 20);
    v.setUint16(10, csum(h));
    l3 = cat([h, l4.bytes]);
  } else {
    const exts: [number, Uint8Array][] = [...(s.ext ?? [])];
    if (s.frag) {
      const fb = new Uint8Array(6);
      const fv = new DataView(fb.buffer);
      fv.setUint16(0, ((s.frag.offset & 0x1fff) << 3) | (s.frag.more ? 1 : 0));
      fv.setUint32(2, s.frag.id ?? 1);
      exts.push([44, fb]);
    }
    const chain: Uint8Array[] = [];
    for (let i = 0; i < exts.length; i++) {
      const [type, body] = exts[i]!;
      const next = i + 1 < exts.length ? exts[i + 1]![0] : l4.proto;
      let len: number;
      let lenByte: number;
      if (type === 44) {
        len = 8;
        lenByte = 0;
      } else if (type === 51) {
        len = Math.ceil((body.length + 2) / 4) * 4;
        lenByte = len / 4 - 2;
      } else {
        len = Math.ceil((body.length + 2) / 8) * 8;
        lenByte = len / 8 - 1;
      }
      const b = new Uint8Array(len);
      b[0] = next;
      b[1] = lenByte;
      b.set(body.subarray(0, len - 2), 2);
      chain.push(b);
    }
    const ext = cat(chain);
    const h = new Uint8Array(40);
    const v = new DataView(h.buffer);
    h[0] = 0x60;
    v.setUint16(4, ext.length + l4.bytes.length);
    h[6] = exts.length ? exts[0]![0] : l4.proto;
    h[7] = 64;
    h.set(src.bytes, 8);
    h.set(dst.bytes, 24);
    l3 = cat([h, ext, l4.bytes]);
  }
  const tags = (s.vlans ?? []).map(([tpid, vid]) => {
    const t = new Uint8Array(4);
    new DataView(t.buffer).setUint16(0, tpid);
    new DataView(t.buffer).setUint16(2, vid & 0xfff);
    return t;
  });
  // Each tag's TPID sits where the previous EtherType would be: dst, src, tpid1, tci1, tpid2, tci2, type.
  const eth = new Uint8Array(12);
  eth.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  const parts: Uint8Array[] = [eth];
  for (const t of tags) parts.push(t);
  const et = new Uint8Array(2);
  new DataView(et.buffer).setUint16(0, s.etherType ?? (family === 4 ? 0x0800 : 0x86dd));
  parts.push(et, l3);
  let out = cat(parts);
  if (s.padTo && out.length < s.padTo) out = cat([out, new Uint8Array(s.padTo - out.length)]);
  return out;
}

/** TCP options of a typical Linux SYN: MSS, SACK-permitted, timestamps, NOP, window scale (20 bytes). */
export const SYN_OPTIONS = Uint8Array.from([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
/** NOP, NOP, timestamps (12 bytes). */
export const TS_OPTIONS = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1]);

/** Deterministic PRNG (mulberry32) for generated corpora. */
export { rng } from "../../models/data/split.ts";
