// Minimal Ethernet/IPv4/UDP and TCP frames for addon tests (the data plane has its own full builder).

export function ipv4Checksum(hdr: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += (hdr[i]! << 8) | (hdr[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ip4(s: string): number[] {
  return s.split(".").map(Number);
}

/** Ethernet + IPv4 header for an L4 segment of `l4Len` bytes; returns the frame and a view. */
function ipv4Frame(proto: number, l4Len: number, src = "198.18.0.1", dst = "198.18.0.2"): { frame: Uint8Array; v: DataView } {
  const frame = new Uint8Array(14 + 20 + l4Len);
  const v = new DataView(frame.buffer);
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45;
  v.setUint16(16, 20 + l4Len);
  ip[8] = 64;
  ip[9] = proto;
  ip.set(ip4(src), 12);
  ip.set(ip4(dst), 16);
  v.setUint16(24, ipv4Checksum(ip));
  return { frame, v };
}

export function udpFrame(opts: { src?: string; dst?: string; sport?: number; dport?: number; payload?: Uint8Array } = {}): Uint8Array {
  const payload = opts.payload ?? new Uint8Array(0);
  const { frame, v } = ipv4Frame(17, 8 + payload.length, opts.src, opts.dst);
  v.setUint16(34, opts.sport ?? 40000);
  v.setUint16(36, opts.dport ?? 53);
  v.setUint16(38, 8 + payload.length);
  frame.set(payload, 42);
  return frame;
}

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** Ethernet/IPv4/TCP with a 20-byte TCP header (no options). */
export function tcpFrame(opts: { src?: string; dst?: string; sport?: number; dport?: number; flags?: number; win?: number; payload?: Uint8Array } = {}): Uint8Array {
  const payload = opts.payload ?? new Uint8Array(0);
  const { frame, v } = ipv4Frame(6, 20 + payload.length, opts.src, opts.dst);
  v.setUint16(34, opts.sport ?? 40000);
  v.setUint16(36, opts.dport ?? 80);
  frame[46] = 5 << 4;
  frame[47] = opts.flags ?? TCP.ACK;
  v.setUint16(48, opts.win ?? 64240);
  frame.set(payload, 54);
  return frame;
}
