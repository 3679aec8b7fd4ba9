import { describe, expect, test } from "bun:test";
import { CaptureFormatError, encodePcap, readCapture } from "./pcap.ts";

const frame = (n: number) => Uint8Array.from({ length: 60 }, (_, i) => (i + n) & 0xff);

function pcapng(opts: { tsresol?: number; be?: boolean; ts: bigint; data: Uint8Array; linkType?: number }): Uint8Array {
  const le = !opts.be;
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array) => {
    const len = 12 + Math.ceil(body.length / 4) * 4;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, len, le);
    b.set(body, 8);
    v.setUint32(len - 4, len, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, le);
  sv.setUint16(4, 1, le);
  sv.setBigInt64(8, -1n, le);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(opts.tsresol === undefined ? 8 : 8 + 8 + 4);
  const iv = new DataView(idb.buffer);
  iv.setUint16(0, opts.linkType ?? 1, le);
  iv.setUint32(4, 65535, le);
  if (opts.tsresol !== undefined) {
    iv.setUint16(8, 9, le);
    iv.setUint16(10, 1, le);
    idb[12] = opts.tsresol;
  }
  block(1, idb);
  const epb = new Uint8Array(20 + opts.data.length);
  const ev = new DataView(epb.buffer);
  ev.setUint32(0, 0, le);
  ev.setUint32(4, Number(opts.ts >> 32n), le);
  ev.setUint32(8, Number(opts.ts & 0xffffffffn), le);
  ev.setUint32(12, opts.data.length, le);
  ev.setUint32(16, opts.data.length + 4, le);
  epb.set(opts.data, 20);
  block(6, epb);
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let o = 0;
  for (const b of blocks) (out.set(b, o), (o += b.length));
  return out;
}

describe("capture readers", () => {
  test("pcap (ns) round trip keeps timestamps, bytes and wire length", () => {
    const pkts = [
      { tsNs: 1_600_000_000_123_456_789n, data: frame(1) },
      { tsNs: 1_600_000_001_000_000_001n, data: frame(2), origLen: 1514 },
    ];
    const back = readCapture(encodePcap(pkts));
    expect(back.map((p) => p.tsNs)).toEqual(pkts.map((p) => p.tsNs));
    expect(back[0]!.data).toEqual(frame(1));
    expect(back[1]!.origLen).toBe(1514);
  });

  test("classic µs pcap in both byte orders", () => {
    for (const be of [false, true]) {
      const b = new Uint8Array(24 + 16 + 60);
      const v = new DataView(b.buffer);
      v.setUint32(0, 0xa1b2c3d4, !be);
      v.setUint32(16, 65535, !be);
      v.setUint32(20, 1, !be);
      v.setUint32(24, 1000, !be);
      v.setUint32(28, 250, !be);
      v.setUint32(32, 60, !be);
      v.setUint32(36, 60, !be);
      b.set(frame(3), 40);
      const [p] = readCapture(b);
      expect(p!.tsNs).toBe(1000_000_250_000n);
      expect(p!.data).toEqual(frame(3));
    }
  });

  test("pcapng: default µs, if_tsresol ns and 2^-n, big-endian sections", () => {
    expect(readCapture(pcapng({ ts: 5_000_001n, data: frame(4) }))[0]!.tsNs).toBe(5_000_001_000n);
    expect(readCapture(pcapng({ tsresol: 9, ts: 7n, data: frame(4) }))[0]!.tsNs).toBe(7n);
    expect(readCapture(pcapng({ tsresol: 0x80 | 10, ts: 1024n * 3n, data: frame(4) }))[0]!.tsNs).toBe(3_000_000_000n);
    const be = readCapture(pcapng({ be: true, ts: 42n, data: frame(5) }));
    expect(be[0]!.tsNs).toBe(42_000n);
    expect(be[0]!.data).toEqual(frame(5));
    expect(be[0]!.origLen).toBe(64);
  });

  test("non-Ethernet link types and garbage are clear errors", () => {
    expect(() => readCapture(pcapng({ ts: 1n, data: frame(1), linkType: 113 }))).toThrow(/not Ethernet/);
    expect(() => readCapture(new Uint8Array(32))).toThrow(CaptureFormatError);
    const truncated = encodePcap([{ tsNs: 1n, data: frame(1) }]).subarray(0, 50);
    expect(() => readCapture(truncated)).toThrow(/truncated/);
  });
});
