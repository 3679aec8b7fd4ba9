import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BpfError, BpfMap, Collection, defineStruct, numPossibleCpus, u32Key } from "../../native/index.ts";
import { PinDir } from "../harness/bpffs.ts";
import { FIXTURES } from "../harness/paths.ts";
import { udpFrame } from "../harness/packets.ts";

const BASIC = join(FIXTURES, "basic.bpf.o");
const KvKey = defineStruct("u32_key", [["k", "u32"]] as const);
const KvValue = defineStruct("kv_value", [["a", "u64"], ["b", "u32"], ["c", "u32"]] as const);
const Counter = defineStruct("u64_value", [["n", "u64"]] as const);

describe("BpfMap", () => {
  test("update, lookup and delete with typed structs", () => {
    using coll = Collection.load(BASIC);
    const kv = coll.map("kv").typed(KvKey, KvValue);
    expect(kv.get({ k: 7 })).toBeNull();
    kv.set({ k: 7 }, { a: 1n << 40n, b: 2, c: 0xffffffff });
    expect(kv.get({ k: 7 })).toEqual({ a: 1n << 40n, b: 2, c: 0xffffffff });
    expect(kv.delete({ k: 7 })).toBe(true);
    expect(kv.delete({ k: 7 })).toBe(false);
    expect(kv.get({ k: 7 })).toBeNull();
  });

  test("update flags: noexist refuses an existing key, exist refuses a missing one", () => {
    using coll = Collection.load(BASIC);
    const kv = coll.map("kv").typed(KvKey, KvValue);
    kv.set({ k: 1 }, { a: 1n, b: 1, c: 1 }, "noexist");
    expect(() => kv.set({ k: 1 }, { a: 2n, b: 2, c: 2 }, "noexist")).toThrow(BpfError);
    expect(() => kv.set({ k: 2 }, { a: 2n, b: 2, c: 2 }, "exist")).toThrow(/No such file/);
    kv.set({ k: 1 }, { a: 3n, b: 3, c: 3 }, "exist");
    expect(kv.get({ k: 1 })?.a).toBe(3n);
  });

  test("wrong key and value sizes are rejected before reaching the kernel", () => {
    using coll = Collection.load(BASIC);
    const kv = coll.map("kv");
    expect(() => kv.lookup(new Uint8Array(3))).toThrow(/key is 3 bytes, expected 4/);
    expect(() => kv.update(u32Key(1), new Uint8Array(5))).toThrow(/value is 5 bytes, expected 16/);
    expect(() => coll.map("kv").typed(KvKey, Counter)).toThrow(/value codec/);
  });

  test("batch iteration returns every entry exactly once", () => {
    using coll = Collection.load(BASIC);
    const kv = coll.map("kv").typed(KvKey, KvValue);
    for (let i = 0; i < 700; i++) kv.set({ k: i * 3 }, { a: BigInt(i), b: i, c: i ^ 0x5a5a });
    const seen = new Map<number, number>();
    for (const [key, value] of kv.entries()) {
      expect(value.b).toBe(key.k / 3);
      expect(value.c).toBe((key.k / 3) ^ 0x5a5a);
      seen.set(key.k, (seen.get(key.k) ?? 0) + 1);
    }
    expect(seen.size).toBe(700);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect([...coll.map("kv").keys()].length).toBe(700);
  });

  test("per-CPU values: read per CPU and summed", () => {
    using coll = Collection.load(BASIC);
    const counts = coll.map("pkt_count");
    const cpus = numPossibleCpus();
    expect(counts.isPerCpu).toBe(true);
    // Each CPU gets its own value: 10, 20, ...; the sum is what a counter reader wants.
    counts.updatePerCpu(u32Key(1), Array.from({ length: cpus }, (_, i) => Counter.encode({ n: BigInt(10 * (i + 1)) })));
    const perCpu = counts.lookupPerCpu(u32Key(1))!.map((v) => Counter.decode(v).n);
    expect(perCpu).toEqual(Array.from({ length: cpus }, (_, i) => BigInt(10 * (i + 1))));
    expect(counts.sumU64(u32Key(1))).toEqual([BigInt((10 * cpus * (cpus + 1)) / 2)]);
    // The program increments slot 0 on whichever CPU runs it; the sum counts every run.
    coll.program("xdp_verdict").testRun({ data: udpFrame(), repeat: 250 });
    expect(counts.sumU64(u32Key(0))).toEqual([250n]);
  });

  test("a pinned map is re-opened by path and shares state", () => {
    using pins = new PinDir("map");
    using coll = Collection.load(BASIC);
    coll.map("kv").pin(pins.join("kv"));
    coll.map("kv").typed(KvKey, KvValue).set({ k: 9 }, { a: 99n, b: 9, c: 9 });
    using reopened = BpfMap.fromPin(pins.join("kv"));
    expect(reopened.name).toBe("kv");
    expect(reopened.typed(KvKey, KvValue).get({ k: 9 })?.a).toBe(99n);
    reopened.close();
    reopened.close();
    expect(() => reopened.fd).toThrow(/closed/);
  });

  test("maps pinned by the collection survive it and are re-used by the next load", () => {
    using pins = new PinDir("reuse");
    {
      using first = Collection.load(BASIC, { pinMaps: { dir: pins.path, names: ["kv"] } });
      first.map("kv").typed(KvKey, KvValue).set({ k: 5 }, { a: 55n, b: 5, c: 5 });
    }
    using second = Collection.load(BASIC, { pinMaps: { dir: pins.path, names: ["kv"] } });
    expect(second.map("kv").typed(KvKey, KvValue).get({ k: 5 })?.a).toBe(55n);
  });
});
