// BpfMap: a live BPF map, by fd. Keys and values are raw bytes; `typed()` adds struct codecs.
import { native } from "./binding.ts";
import { call } from "./errors.ts";
import { FdHandle, openPinned, type OwnedFd } from "./fd.ts";
import type { StructCodec } from "./struct.ts";

export const MapType = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9,
  LRU_PERCPU_HASH: 10, LPM_TRIE: 11, RINGBUF: 27,
} as const;

const PER_CPU_TYPES = new Set<number>([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH]);
const UPDATE_FLAGS = { any: 0, noexist: 1, exist: 2 } as const;
export type UpdateFlag = keyof typeof UPDATE_FLAGS;

export interface MapInfo { name: string; type: number; keySize: number; valueSize: number; maxEntries: number; flags: number }

export class BpfMap extends FdHandle {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Bytes of one lookup result: per-CPU maps return one 8-byte-aligned slot per possible CPU. */
  readonly valueBytes: number;
  readonly cpus: number;

  /** @internal use Collection.map() or BpfMap.fromPin() */
  constructor(info: MapInfo, fd: () => number, owned: OwnedFd | null) {
    super(fd, owned);
    this.name = info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.cpus = native.numPossibleCpus();
    this.valueBytes = this.isPerCpu ? Math.ceil(info.valueSize / 8) * 8 * this.cpus : info.valueSize;
  }

  /** Opens a map pinned in bpffs; the returned map owns its fd. */
  static fromPin(path: string): BpfMap {
    const { owned, info } = call(() => openPinned(path, "map", (fd) => native.mapInfo(fd)));
    return new BpfMap(info, () => owned.fd, owned);
  }

  get isPerCpu(): boolean {
    return PER_CPU_TYPES.has(this.type);
  }

  lookup(key: Uint8Array): Uint8Array | null {
    this.#checkKey(key);
    return call(() => native.mapLookup(this.fd, key, this.valueBytes));
  }

  /** Per-CPU maps: one value per possible CPU. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | null {
    if (!this.isPerCpu) throw new TypeError(`map ${this.name} is not per-CPU`);
    const raw = this.lookup(key);
    return raw ? this.#splitPerCpu(raw) : null;
  }

  /** Per-CPU maps whose value is an array of u64 counters: the counters summed over CPUs. */
  sumU64(key: Uint8Array): bigint[] | null {
    const perCpu = this.lookupPerCpu(key);
    if (!perCpu) return null;
    const n = Math.floor(this.valueSize / 8);
    const sums = new Array<bigint>(n).fill(0n);
    for (const v of perCpu) {
      const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < n; i++) sums[i]! += view.getBigUint64(i * 8, true);
    }
    return sums;
  }

  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlag = "any"): void {
    this.#checkKey(key);
    if (value.length !== this.valueBytes && !(this.isPerCpu && value.length === this.valueSize)) {
      throw new RangeError(`map ${this.name}: value is ${value.length} bytes, expected ${this.valueBytes}`);
    }
    const full = this.isPerCpu && value.length === this.valueSize ? this.#replicate(value) : value;
    call(() => native.mapUpdate(this.fd, key, full, UPDATE_FLAGS[flag]));
  }

  /** Per-CPU maps: set each CPU's value. */
  updatePerCpu(key: Uint8Array, values: Uint8Array[], flag: UpdateFlag = "any"): void {
    if (values.length !== this.cpus) throw new RangeError(`map ${this.name}: need ${this.cpus} per-CPU values`);
    const stride = this.valueBytes / this.cpus;
    const full = new Uint8Array(this.valueBytes);
    values.forEach((v, i) => full.set(v.subarray(0, this.valueSize), i * stride));
    call(() => native.mapUpdate(this.fd, key, full, UPDATE_FLAGS[flag]));
  }

  delete(key: Uint8Array): boolean {
    this.#checkKey(key);
    return call(() => native.mapDelete(this.fd, key));
  }

  /** Points slot `index` of a program array at a program (for tail calls). */
  setProgram(index: number, progFd: number): void {
    if (this.type !== MapType.PROG_ARRAY) throw new TypeError(`map ${this.name} is not a program array`);
    const k = new Uint8Array(4), v = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, index, true);
    new DataView(v.buffer).setUint32(0, progFd, true);
    call(() => native.mapUpdate(this.fd, k, v, 0));
  }

  /** A snapshot of all entries, read in batches (BPF_MAP_LOOKUP_BATCH where the map supports it). */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    const dump = call(() => native.mapDump(this.fd, this.keySize, this.valueBytes, this.maxEntries));
    for (let i = 0; i < dump.count; i++) {
      yield [
        dump.keys.subarray(i * this.keySize, (i + 1) * this.keySize),
        dump.values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes),
      ];
    }
  }

  *keys(): Generator<Uint8Array> {
    let key: Uint8Array | null = null;
    while ((key = call(() => native.mapNextKey(this.fd, key, this.keySize))) !== null) yield key;
  }

  /** Views this map through struct codecs for its key and value. */
  typed<K, V>(keyCodec: StructCodec<K>, valueCodec: StructCodec<V>): TypedMap<K, V> {
    if (keyCodec.size !== this.keySize) throw new RangeError(`map ${this.name}: key codec ${keyCodec.name} is ${keyCodec.size} bytes, map key is ${this.keySize}`);
    if (valueCodec.size !== this.valueSize) throw new RangeError(`map ${this.name}: value codec ${valueCodec.name} is ${valueCodec.size} bytes, map value is ${this.valueSize}`);
    return new TypedMap(this, keyCodec, valueCodec);
  }

  #checkKey(key: Uint8Array): void {
    if (key.length !== this.keySize) throw new RangeError(`map ${this.name}: key is ${key.length} bytes, expected ${this.keySize}`);
  }

  #splitPerCpu(raw: Uint8Array): Uint8Array[] {
    const stride = raw.length / this.cpus;
    return Array.from({ length: this.cpus }, (_, i) => raw.subarray(i * stride, i * stride + this.valueSize));
  }

  #replicate(value: Uint8Array): Uint8Array {
    return this.#joinPerCpu(Array.from({ length: this.cpus }, () => value));
  }

  #joinPerCpu(values: Uint8Array[]): Uint8Array {
    const stride = this.valueBytes / this.cpus;
    const full = new Uint8Array(this.valueBytes);
    values.forEach((v, i) => full.set(v, i * stride));
    return full;
  }
}

export class TypedMap<K, V> {
  constructor(readonly raw: BpfMap, readonly key: StructCodec<K>, readonly value: StructCodec<V>) {}

  get(k: K): V | null {
    const v = this.raw.lookup(this.key.encode(k));
    return v ? this.value.decode(v) : null;
  }

  getPerCpu(k: K): V[] | null {
    return this.raw.lookupPerCpu(this.key.encode(k))?.map((v) => this.value.decode(v)) ?? null;
  }

  set(k: K, v: V, flag: UpdateFlag = "any"): void {
    this.raw.update(this.key.encode(k), this.value.encode(v), flag);
  }

  delete(k: K): boolean {
    return this.raw.delete(this.key.encode(k));
  }

  *entries(): Generator<[K, V]> {
    for (const [k, v] of this.raw.entries()) yield [this.key.decode(k), this.value.decode(v)];
  }
}
