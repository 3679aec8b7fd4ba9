// Collection: every program and map of one BPF object file, loaded all-or-nothing.
// Sequence, as libbpf-bootstrap: open -> configure (constants, map sizes, pins) -> load -> use -> close.
import { native, type RawBpfObject, type RawGlobal } from "./binding.ts";
import { call } from "./errors.ts";
import { BpfMap } from "./map.ts";
import { Program } from "./program.ts";

export type GlobalValue = number | bigint | boolean | Uint8Array;

export interface CollectionOptions {
  /** `const volatile` knobs in .rodata, set by variable name before load. */
  constants?: Record<string, GlobalValue>;
  /** Map sizes set before load, by map name. */
  maxEntries?: Record<string, number>;
  /** Maps to pin under `dir` by name; an existing compatible pin is re-used (state survives restarts). */
  pinMaps?: { dir: string; names: string[] };
}

function encodeGlobal(g: RawGlobal, value: GlobalValue): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== g.size) throw new RangeError(`global ${g.name} is ${g.size} bytes, got ${value.length}`);
    return value;
  }
  if (![1, 2, 4, 8].includes(g.size)) throw new TypeError(`global ${g.name} (${g.size} bytes) needs a Uint8Array value`);
  const n = typeof value === "boolean" ? (value ? 1n : 0n) : BigInt(value);
  const bits = g.size * 8;
  if (n >= 1n << BigInt(bits) || n < -(1n << BigInt(bits - 1))) throw new RangeError(`global ${g.name}: ${n} does not fit in ${bits} bits`);
  const out = new Uint8Array(g.size);
  let u = BigInt.asUintN(bits, n);
  for (let i = 0; i < g.size; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

function decodeGlobal(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export class Collection implements Disposable {
  readonly programs: ReadonlyMap<string, Program>;
  readonly maps: ReadonlyMap<string, BpfMap>;
  #obj: RawBpfObject | null;
  readonly #globals: Map<string, RawGlobal>;

  private constructor(obj: RawBpfObject, globals: RawGlobal[]) {
    this.#obj = obj;
    this.#globals = new Map(globals.map((g) => [g.name, g]));
    const alive = (fd: number, what: string) => () => {
      if (!this.#obj) throw new Error(`${what}: collection is closed`);
      return fd;
    };
    this.programs = new Map(obj.programs().map((p) => [p.name, new Program(p.name, p.type, alive(p.fd, `program ${p.name}`), null)]));
    this.maps = new Map(obj.maps().map((m) => [m.name, new BpfMap(m, alive(m.fd, `map ${m.name}`), null)]));
  }

  /** Opens, configures and loads `path`. On any failure nothing stays open. */
  static load(path: string, opts: CollectionOptions = {}): Collection {
    const obj = call(() => new native.BpfObject(path));
    try {
      const globals = obj.globals();
      const byName = new Map(globals.map((g) => [g.name, g]));
      for (const [name, value] of Object.entries(opts.constants ?? {})) {
        const g = byName.get(name);
        if (!g) throw new Error(`${path}: no global variable named '${name}' (have: ${globals.map((x) => x.name).join(", ") || "none"})`);
        if (!g.section.startsWith(".rodata")) throw new Error(`${path}: '${name}' lives in ${g.section}, not .rodata; set it with setGlobal() after load`);
        obj.setInitial(g.section, g.offset, encodeGlobal(g, value));
      }
      for (const [name, n] of Object.entries(opts.maxEntries ?? {})) {
        if (!Number.isInteger(n) || n < 1) throw new RangeError(`max entries for map ${name} must be a positive integer, got ${n}`);
        call(() => obj.setMaxEntries(name, n));
      }
      for (const name of opts.pinMaps?.names ?? []) call(() => obj.setPinPath(name, `${opts.pinMaps!.dir}/${name}`));
      call(() => obj.load());
      return new Collection(obj, globals);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new Error(`no program named '${name}' (have: ${[...this.programs.keys()].join(", ")})`);
    return p;
  }

  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m) throw new Error(`no map named '${name}' (have: ${[...this.maps.keys()].join(", ")})`);
    return m;
  }

  /** Writes a .bss/.data global of the loaded program (read-modify-write of its section map). */
  setGlobal(name: string, value: GlobalValue): void {
    this.setGlobals({ [name]: value });
  }

  /** Writes several globals of one data section in one map update (one copy of the section, not
   *  one read-modify-write per global; a reader on another CPU may still overlap that copy). */
  setGlobals(values: Record<string, GlobalValue>): void {
    const gs = Object.keys(values).map((name) => this.#global(name));
    const sections = new Set(gs.map((g) => g.section));
    if (sections.size !== 1) throw new Error(`setGlobals: expected globals of one data section, got ${[...sections].join(", ") || "none"}`);
    const section = this.#sectionMap(gs[0]!);
    const key = new Uint8Array(4);
    const image = section.lookup(key)!;
    for (const g of gs) image.set(encodeGlobal(g, values[g.name]!), g.offset);
    section.update(key, image);
  }

  /** Reads a global of the loaded program as an unsigned integer. */
  getGlobal(name: string): bigint {
    const g = this.#global(name);
    const image = this.#sectionMap(g).lookup(new Uint8Array(4))!;
    return decodeGlobal(image.subarray(g.offset, g.offset + g.size));
  }

  get closed(): boolean {
    return this.#obj === null;
  }

  /** Closes every program and map fd of the object. Safe to call twice. */
  close(): void {
    this.#obj?.close();
    this.#obj = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #global(name: string): RawGlobal {
    const g = this.#globals.get(name);
    if (!g) throw new Error(`no global variable named '${name}'`);
    return g;
  }

  #sectionMap(g: RawGlobal): BpfMap {
    for (const [name, m] of this.maps) if (name.endsWith(g.section)) return m;
    throw new Error(`section ${g.section} of global ${g.name} has no map`);
  }
}
