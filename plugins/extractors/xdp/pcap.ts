// Capture file readers (classic pcap in all four magic variants, pcapng) and a small pcap writer
// for tests. Only Ethernet link types are accepted: the data plane parses from the Ethernet
// header, so any other link type is a clear error rather than a silent mis-parse.
import { readFileSync, writeFileSync } from "node:fs";

export const LINKTYPE_ETHERNET = 1;

export interface CapturedPacket {
  /** Capture timestamp in nanoseconds since the epoch (exact: pcap µs/ns and pcapng resolutions). */
  tsNs: bigint;
  /** Captured bytes (may be shorter than origLen when the capture used a snap length). */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  origLen: number;
}

export class CaptureFormatError extends Error {}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

/** Reads a whole capture file (pcap or pcapng, detected by magic). */
export function readCapture(pathOrBytes: string | Uint8Array): CapturedPacket[] {
  const bytes = typeof pathOrBytes === "string" ? new Uint8Array(readFileSync(pathOrBytes)) : pathOrBytes;
  return [...iterateCapture(bytes, typeof pathOrBytes === "string" ? pathOrBytes : "<buffer>")];
}

/**
 * Reads every complete packet of a capture that may be damaged (cut short, a bad block): the
 * packets before the damage, and what the damage is. A file that is not a capture at all is still
 * an error.
 */
export function salvageCapture(path: string): { packets: CapturedPacket[]; damage: string | null } {
  const bytes = new Uint8Array(readFileSync(path));
  const packets: CapturedPacket[] = [];
  try {
    for (const p of iterateCapture(bytes, path)) packets.push(p);
    return { packets, damage: null };
  } catch (err) {
    if (!(err instanceof CaptureFormatError) || /not a pcap|too short|truncated pcap header|is not Ethernet/.test(err.message)) throw err;
    return { packets, damage: err.message };
  }
}

export function* iterateCapture(bytes: Uint8Array, name = "<buffer>"): Generator<CapturedPacket> {
  if (bytes.length < 4) throw new CaptureFormatError(`${name}: too short to be a capture file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLE = dv.getUint32(0, true);
  if (magicLE === PCAPNG_SHB) {
    yield* readPcapng(bytes, dv, name);
    return;
  }
  yield* readPcap(bytes, dv, name);
}

function* readPcap(bytes: Uint8Array, dv: DataView, name: string): Generator<CapturedPacket> {
  if (bytes.length < 24) throw new CaptureFormatError(`${name}: truncated pcap header`);
  let le: boolean;
  let nsRes: boolean;
  const m = dv.getUint32(0, true);
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) le = true;
  else if (dv.getUint32(0, false) === PCAP_MAGIC_US || dv.getUint32(0, false) === PCAP_MAGIC_NS) le = false;
  else throw new CaptureFormatError(`${name}: not a pcap or pcapng file (magic 0x${m.toString(16)})`);
  nsRes = dv.getUint32(0, le) === PCAP_MAGIC_NS;
  // The link type sits in the low 28 bits (the top bits may carry FCS information).
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  if (linkType !== LINKTYPE_ETHERNET) {
    throw new CaptureFormatError(`${name}: link type ${linkType} is not Ethernet (1)`);
  }
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) throw new CaptureFormatError(`${name}: truncated record header at ${off}`);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const inclLen = dv.getUint32(off + 8, le);
    const origLen = dv.getUint32(off + 12, le);
    off += 16;
    if (off + inclLen > bytes.length) throw new CaptureFormatError(`${name}: truncated record at ${off - 16}`);
    const tsNs = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nsRes ? 1n : 1000n);
    yield { tsNs, data: bytes.subarray(off, off + inclLen), origLen };
    off += inclLen;
  }
}

interface Iface {
  linkType: number;
  /** Units per second of the timestamps, as a power: 10^-n or 2^-n. */
  tsUnitsPerSec: bigint;
  tsOffsetSec: bigint;
}

function* readPcapng(bytes: Uint8Array, dv: DataView, name: string): Generator<CapturedPacket> {
  let off = 0;
  let le = true;
  let ifaces: Iface[] = [];
  while (off < bytes.length) {
    if (off + 12 > bytes.length) throw new CaptureFormatError(`${name}: truncated block at ${off}`);
    let type = dv.getUint32(off, le);
    if (dv.getUint32(off, true) === PCAPNG_SHB) {
      // A section header fixes the byte order of everything up to the next section.
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (dv.getUint32(off + 8, false) === PCAPNG_BOM) le = false;
      else throw new CaptureFormatError(`${name}: bad pcapng byte-order magic at ${off}`);
      type = PCAPNG_SHB;
      ifaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > bytes.length) {
      throw new CaptureFormatError(`${name}: bad block length ${len} at ${off}`);
    }
    const body = off + 8;
    const bodyEnd = off + len - 4;
    if (type === 1) {
      // Interface Description Block: link type, snap length, options (if_tsresol, if_tsoffset).
      const iface: Iface = { linkType: dv.getUint16(body, le), tsUnitsPerSec: 1_000_000n, tsOffsetSec: 0n };
      let o = body + 8;
      while (o + 4 <= bodyEnd) {
        const code = dv.getUint16(o, le);
        const olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = bytes[o + 4]!;
          iface.tsUnitsPerSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
        } else if (code === 14 && olen >= 8) {
          iface.tsOffsetSec = dv.getBigInt64(o + 4, le);
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push(iface);
    } else if (type === 6 || type === 2) {
      // Enhanced Packet Block (6) and the obsolete Packet Block (2, 16-bit interface id).
      const ifId = type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le);
      const iface = ifaces[ifId];
      if (!iface) throw new CaptureFormatError(`${name}: packet for unknown interface ${ifId} at ${off}`);
      if (iface.linkType !== LINKTYPE_ETHERNET) {
        throw new CaptureFormatError(`${name}: interface ${ifId} link type ${iface.linkType} is not Ethernet (1)`);
      }
      const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
      const capLen = dv.getUint32(body + 12, le);
      const origLen = dv.getUint32(body + 16, le);
      if (body + 20 + capLen > bodyEnd) throw new CaptureFormatError(`${name}: packet overruns block at ${off}`);
      yield { tsNs: toNs(ts, iface), data: bytes.subarray(body + 20, body + 20 + capLen), origLen };
    } else if (type === 3) {
      // Simple Packet Block: no timestamp; interface 0 implied.
      const iface = ifaces[0];
      if (!iface) throw new CaptureFormatError(`${name}: simple packet block before any interface`);
      const origLen = dv.getUint32(body, le);
      const capLen = Math.min(origLen, bodyEnd - body - 4);
      yield { tsNs: 0n, data: bytes.subarray(body + 4, body + 4 + capLen), origLen };
    }
    off += len;
  }
}

function toNs(ts: bigint, iface: Iface): bigint {
  // Exact when the resolution divides 1 s into a power of ten ≤ 10^9; otherwise floored.
  return iface.tsOffsetSec * 1_000_000_000n + (ts * 1_000_000_000n) / iface.tsUnitsPerSec;
}

/** Writes a classic nanosecond-resolution pcap (Ethernet). Used by tests to build captures. */
export function encodePcap(packets: Iterable<{ tsNs: bigint; data: Uint8Array; origLen?: number }>): Uint8Array {
  const list = [...packets];
  const total = 24 + list.reduce((s, p) => s + 16 + p.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, PCAP_MAGIC_NS, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, LINKTYPE_ETHERNET, true);
  let off = 24;
  for (const p of list) {
    dv.setUint32(off, Number(p.tsNs / 1_000_000_000n), true);
    dv.setUint32(off + 4, Number(p.tsNs % 1_000_000_000n), true);
    dv.setUint32(off + 8, p.data.length, true);
    dv.setUint32(off + 12, p.origLen ?? p.data.length, true);
    out.set(p.data, off + 16);
    off += 16 + p.data.length;
  }
  return out;
}

export function writePcap(path: string, packets: Iterable<{ tsNs: bigint; data: Uint8Array; origLen?: number }>): void {
  writeFileSync(path, encodePcap(packets));
}
