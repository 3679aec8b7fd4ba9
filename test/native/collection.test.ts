import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { BpfError, Collection, VerifierError, XdpAction } from "../../native/index.ts";
import { FIXTURES } from "../harness/paths.ts";
import { udpFrame } from "../harness/packets.ts";

const BASIC = join(FIXTURES, "basic.bpf.o");
const REJECTED = join(FIXTURES, "verifier_reject.bpf.o");
const openFds = () => readdirSync("/proc/self/fd").length;

describe("Collection", () => {
  test("loads every program and map of an object", () => {
    using coll = Collection.load(BASIC);
    expect([...coll.programs.keys()].sort()).toEqual(["xdp_emit", "xdp_tail_entry", "xdp_tail_target", "xdp_verdict"]);
    expect([...coll.maps.keys()]).toEqual(expect.arrayContaining(["kv", "pkt_count", "jmp", "events"]));
    const kv = coll.map("kv");
    expect([kv.keySize, kv.valueSize, kv.maxEntries]).toEqual([4, 16, 1024]);
    expect(coll.program("xdp_verdict").fd).toBeGreaterThan(0);
  });

  test("const volatile knobs are set before load and change behaviour", () => {
    using pass = Collection.load(BASIC);
    using drop = Collection.load(BASIC, { constants: { cfg_verdict: XdpAction.DROP } });
    expect(pass.program("xdp_verdict").testRun({ data: udpFrame() }).retval).toBe(XdpAction.PASS);
    expect(drop.program("xdp_verdict").testRun({ data: udpFrame() }).retval).toBe(XdpAction.DROP);
  });

  test("map sizes are set before load", () => {
    using coll = Collection.load(BASIC, { maxEntries: { kv: 77 } });
    expect(coll.map("kv").maxEntries).toBe(77);
  });

  test("globals in .bss are read and written after load", () => {
    using coll = Collection.load(BASIC);
    const prog = coll.program("xdp_verdict");
    expect(coll.getGlobal("drop_all")).toBe(0n);
    coll.setGlobal("drop_all", 1);
    expect(coll.getGlobal("drop_all")).toBe(1n);
    expect(prog.testRun({ data: udpFrame() }).retval).toBe(XdpAction.DROP);
  });

  test("bad configuration is rejected before load and leaks nothing", () => {
    const before = openFds();
    expect(() => Collection.load(BASIC, { constants: { no_such_knob: 1 } })).toThrow(/no global variable named 'no_such_knob'/);
    expect(() => Collection.load(BASIC, { constants: { drop_all: 1 } })).toThrow(/not \.rodata/);
    expect(() => Collection.load(BASIC, { maxEntries: { nope: 4 } })).toThrow(/no map named 'nope'/);
    expect(() => Collection.load(BASIC, { constants: { cfg_verdict: 1n << 40n } })).toThrow(/does not fit/);
    expect(() => Collection.load("/nonexistent.bpf.o")).toThrow(BpfError);
    expect(openFds()).toBe(before);
  });

  test("a verifier rejection is a VerifierError carrying the log, and leaks no fd", () => {
    const before = openFds();
    let caught: unknown;
    try {
      Collection.load(REJECTED);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VerifierError);
    const v = caught as VerifierError;
    expect(v.op).toBe("load");
    expect(v.log).toContain("invalid access to packet");
    expect(v.log).toMatch(/processed \d+ insns|R\d/);
    expect(v.message).toContain("invalid access to packet");
    expect(openFds()).toBe(before);
  });

  test("closing twice is harmless and use after close is a clear error", () => {
    const before = openFds();
    const coll = Collection.load(BASIC);
    const prog = coll.program("xdp_verdict");
    const map = coll.map("kv");
    expect(openFds()).toBeGreaterThan(before);
    coll.close();
    coll.close();
    expect(coll.closed).toBe(true);
    expect(openFds()).toBe(before);
    expect(() => prog.fd).toThrow(/collection is closed/);
    expect(() => map.lookup(new Uint8Array(4))).toThrow(/collection is closed/);
  });
});
