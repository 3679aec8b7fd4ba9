import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Collection, defineStruct, RingBuffer } from "../../native/index.ts";
import { FIXTURES } from "../harness/paths.ts";
import { udpFrame } from "../harness/packets.ts";

const BASIC = join(FIXTURES, "basic.bpf.o");
const Event = defineStruct("event", [["magic", "u32"], ["len", "u32"], ["seq", "u64"], ["head", { bytes: 16 }]] as const);

describe("RingBuffer", () => {
  test("records arrive in order with their fields intact", () => {
    using coll = Collection.load(BASIC);
    using rb = new RingBuffer(coll.map("events"), { lost: () => coll.getGlobal("lost") });
    const emit = coll.program("xdp_emit");
    const frames = Array.from({ length: 20 }, (_, i) => udpFrame({ sport: 1000 + i, payload: new Uint8Array(i) }));
    for (const f of frames) emit.testRun({ data: f });
    const records = rb.consume().map((r) => Event.decode(r));
    expect(records.length).toBe(20);
    records.forEach((r, i) => {
      expect(r.magic).toBe(0x58494453);
      expect(r.seq).toBe(BigInt(i));
      expect(r.len).toBe(frames[i]!.length);
      expect(r.head).toEqual(frames[i]!.subarray(0, 16));
    });
    expect(rb.consume()).toEqual([]);
    expect(rb.lost).toBe(0n);
  });

  test("a full ring loses records and every loss is counted", () => {
    using coll = Collection.load(BASIC);
    using rb = new RingBuffer(coll.map("events"), { lost: () => coll.getGlobal("lost") });
    const emit = coll.program("xdp_emit");
    const total = 300;  // a 4 KiB ring holds about a hundred 40-byte records
    for (let i = 0; i < total; i++) emit.testRun({ data: udpFrame() });
    const received = rb.consume().length;
    expect(received).toBeGreaterThan(0);
    expect(rb.lost).toBeGreaterThan(0n);
    expect(BigInt(received) + rb.lost).toBe(BigInt(total));
    // Draining frees the space again.
    emit.testRun({ data: udpFrame() });
    expect(rb.poll(100).length).toBe(1);
  });

  test("only a ring buffer map is accepted, and closing twice is harmless", () => {
    using coll = Collection.load(BASIC);
    expect(() => new RingBuffer(coll.map("kv"))).toThrow(/not a ring buffer/);
    const rb = new RingBuffer(coll.map("events"));
    rb.close();
    rb.close();
    expect(() => rb.consume()).toThrow(/closed/);
  });
});
