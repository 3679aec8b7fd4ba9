// Typed codecs for C structs shared with BPF programs. Layout follows the C rules clang uses for
// the BPF target on little-endian hosts: each member at its natural alignment, the struct padded to
// its largest member's alignment. Keep field lists in the same order as the C header.

type NumberScalar = "u8" | "u16" | "u32" | "s8" | "s16" | "s32" | "be16" | "be32";
type BigScalar = "u64" | "s64";
export type Scalar = NumberScalar | BigScalar;
export interface BytesField { bytes: number }
export interface ArrayField<T extends Scalar = Scalar> { array: T; length: number }
export type FieldType = Scalar | BytesField | ArrayField | StructCodec<any>;

type ValueOf<F> = F extends BigScalar ? bigint
  : F extends NumberScalar ? number
  : F extends BytesField ? Uint8Array
  : F extends ArrayField<infer T> ? (T extends BigScalar ? bigint[] : number[])
  : F extends StructCodec<infer V> ? V
  : never;

export type Fields = readonly (readonly [string, FieldType])[];
export type StructValue<F extends Fields> = { [E in F[number] as E[0]]: ValueOf<E[1]> };

export interface StructCodec<V> {
  readonly name: string;
  readonly size: number;
  readonly align: number;
  /** Byte offset of each member, for tests that compare against the C header (offsetof). */
  readonly offsets: Readonly<Record<string, number>>;
  encode(value: V): Uint8Array;
  encodeInto(value: V, view: DataView, offset: number): void;
  decode(bytes: Uint8Array, offset?: number): V;
  decodeFrom(view: DataView, offset: number): V;
  /** All-zero value, handy as a starting point. */
  zero(): V;
}

const scalarSize: Record<Scalar, number> = {
  u8: 1, s8: 1, u16: 2, s16: 2, be16: 2, u32: 4, s32: 4, be32: 4, u64: 8, s64: 8,
};

function isStruct(t: FieldType): t is StructCodec<any> {
  return typeof t === "object" && "encodeInto" in t;
}

function sizeAlign(t: FieldType): [number, number] {
  if (typeof t === "string") return [scalarSize[t], scalarSize[t]];
  if (isStruct(t)) return [t.size, t.align];
  if ("bytes" in t) return [t.bytes, 1];
  return [scalarSize[t.array] * t.length, scalarSize[t.array]];
}

function readScalar(view: DataView, off: number, t: Scalar): number | bigint {
  switch (t) {
    case "u8": return view.getUint8(off);
    case "s8": return view.getInt8(off);
    case "u16": return view.getUint16(off, true);
    case "s16": return view.getInt16(off, true);
    case "be16": return view.getUint16(off, false);
    case "u32": return view.getUint32(off, true);
    case "s32": return view.getInt32(off, true);
    case "be32": return view.getUint32(off, false);
    case "u64": return view.getBigUint64(off, true);
    case "s64": return view.getBigInt64(off, true);
  }
}

function writeScalar(view: DataView, off: number, t: Scalar, v: number | bigint, field: string): void {
  if (t === "u64" || t === "s64") {
    if (typeof v !== "bigint") throw new TypeError(`field ${field}: expected bigint, got ${typeof v}`);
    if (t === "u64") view.setBigUint64(off, v, true);
    else view.setBigInt64(off, v, true);
    return;
  }
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`field ${field}: expected an integer, got ${String(v)}`);
  switch (t) {
    case "u8": view.setUint8(off, v); break;
    case "s8": view.setInt8(off, v); break;
    case "u16": view.setUint16(off, v, true); break;
    case "s16": view.setInt16(off, v, true); break;
    case "be16": view.setUint16(off, v, false); break;
    case "u32": view.setUint32(off, v, true); break;
    case "s32": view.setInt32(off, v, true); break;
    case "be32": view.setUint32(off, v, false); break;
  }
}

// Typed-array views for the array fast path (little-endian host, as BPF on x86 and arm64).
const ARRAY_VIEWS = {
  u8: [Uint8Array, 0, 0xff], s8: [Int8Array, -0x80, 0x7f], u16: [Uint16Array, 0, 0xffff], s16: [Int16Array, -0x8000, 0x7fff],
  u32: [Uint32Array, 0, 0xffffffff], s32: [Int32Array, -0x80000000, 0x7fffffff],
} as const;

/** Large arrays (model weights) are copied with one typed-array set after a range check. */
function writeArrayFast(view: DataView, off: number, t: Scalar, arr: ArrayLike<number | bigint>, field: string): boolean {
  if (!(t in ARRAY_VIEWS) || (view.byteOffset + off) % scalarSize[t] !== 0) return false;
  const [Ctor, lo, hi] = ARRAY_VIEWS[t as keyof typeof ARRAY_VIEWS];
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (typeof x !== "number" || !Number.isInteger(x) || x < lo || x > hi) throw new TypeError(`field ${field}[${i}]: ${String(x)} is not a ${t}`);
  }
  new Ctor(view.buffer as ArrayBuffer, view.byteOffset + off, arr.length).set(arr as ArrayLike<number>);
  return true;
}

export function defineStruct<const F extends Fields>(name: string, fields: F): StructCodec<StructValue<F>> {
  type V = StructValue<F>;
  const layout: { name: string; type: FieldType; offset: number }[] = [];
  let offset = 0;
  let align = 1;
  for (const [fname, type] of fields) {
    const [size, a] = sizeAlign(type);
    offset = Math.ceil(offset / a) * a;
    layout.push({ name: fname, type, offset });
    offset += size;
    align = Math.max(align, a);
  }
  const size = Math.ceil(offset / align) * align;

  function decodeFrom(view: DataView, base: number): V {
    const out: Record<string, unknown> = {};
    for (const f of layout) {
      const off = base + f.offset;
      const t = f.type;
      if (typeof t === "string") out[f.name] = readScalar(view, off, t);
      else if (isStruct(t)) out[f.name] = t.decodeFrom(view, off);
      else if ("bytes" in t) out[f.name] = new Uint8Array(view.buffer, view.byteOffset + off, t.bytes).slice(); // a copy, as the caller may keep it
      else out[f.name] = Array.from({ length: t.length }, (_, i) => readScalar(view, off + i * scalarSize[t.array], t.array));
    }
    return out as V;
  }

  function encodeInto(value: V, view: DataView, base: number): void {
    const v = value as Record<string, unknown>;
    for (const f of layout) {
      const off = base + f.offset;
      const t = f.type;
      const fv = v[f.name];
      if (fv === undefined) throw new TypeError(`${name}.${f.name} is missing`);
      if (typeof t === "string") writeScalar(view, off, t, fv as number | bigint, `${name}.${f.name}`);
      else if (isStruct(t)) t.encodeInto(fv, view, off);
      else if ("bytes" in t) {
        const b = fv as Uint8Array;
        if (b.length > t.bytes) throw new RangeError(`${name}.${f.name}: ${b.length} bytes do not fit in ${t.bytes}`);
        new Uint8Array(view.buffer, view.byteOffset + off, t.bytes).set(b);
      } else {
        const arr = fv as (number | bigint)[];
        if (arr.length > t.length) throw new RangeError(`${name}.${f.name}: ${arr.length} elements do not fit in ${t.length}`);
        if (!writeArrayFast(view, off, t.array, arr, `${name}.${f.name}`)) {
          arr.forEach((x, i) => writeScalar(view, off + i * scalarSize[t.array], t.array, x, `${name}.${f.name}[${i}]`));
        }
      }
    }
  }

  const codec: StructCodec<V> = {
    name,
    size,
    align,
    offsets: Object.fromEntries(layout.map((f) => [f.name, f.offset])),
    encodeInto,
    decodeFrom,
    encode(value) {
      const out = new Uint8Array(size);
      encodeInto(value, new DataView(out.buffer), 0);
      return out;
    },
    decode(bytes, off = 0) {
      if (bytes.length - off < size) throw new RangeError(`${name}: need ${size} bytes, got ${bytes.length - off}`);
      return decodeFrom(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), off);
    },
    zero() {
      return decodeFrom(new DataView(new ArrayBuffer(size)), 0);
    },
  };
  return codec;
}

/** A little-endian u32 key, the most common array-map key. */
export function u32Key(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
