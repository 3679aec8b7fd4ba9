// A minimal protobuf writer: just the wire types ONNX needs (varint, 32-bit, length-delimited).
// Writing ~100 lines beats a Python or codegen dependency for one message family.

export class PbWriter {
  private chunks: number[] = [];

  private byte(b: number): void { this.chunks.push(b & 0xff); }

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v)); // negative int64 is 10 bytes of two's complement
    while (x >= 0x80n) { this.byte(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    this.byte(Number(x));
    return this;
  }

  private tag(field: number, wire: number): void { this.varint((field << 3) | wire); }

  int(field: number, v: number | bigint): this { this.tag(field, 0); return this.varint(v); }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    b.forEach((x) => this.byte(x));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    for (const x of data) this.byte(x);
    return this;
  }

  string(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }

  message(field: number, m: PbWriter): this { return this.bytes(field, m.finish()); }

  /** Packed repeated int64 (proto3 default for repeated scalars). */
  packedInts(field: number, vs: readonly (number | bigint)[]): this {
    const inner = new PbWriter();
    vs.forEach((v) => inner.varint(v));
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, vs: readonly number[]): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array { return Uint8Array.from(this.chunks); }
}
