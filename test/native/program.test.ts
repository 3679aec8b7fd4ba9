import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Collection, Program, XdpAction } from "../../native/index.ts";
import { PinDir } from "../harness/bpffs.ts";
import { FIXTURES } from "../harness/paths.ts";
import { udpFrame } from "../harness/packets.ts";

const BASIC = join(FIXTURES, "basic.bpf.o");

describe("Program", () => {
  test("BPF_PROG_TEST_RUN returns the verdict, the packet and a duration", () => {
    using coll = Collection.load(BASIC);
    const frame = udpFrame({ payload: new TextEncoder().encode("hello") });
    const res = coll.program("xdp_verdict").testRun({ data: frame, repeat: 1000 });
    expect(res.retval).toBe(XdpAction.PASS);
    expect(res.data).toEqual(frame);
    expect(res.durationNs).toBeGreaterThan(0); // the kernel's average per run (no bound: timings are the bench's)
  });

  test("repeat must be a positive integer", () => {
    using coll = Collection.load(BASIC);
    expect(() => coll.program("xdp_verdict").testRun({ data: udpFrame(), repeat: 0 })).toThrow(/repeat/);
  });

  test("a tail call fires once the program array slot is filled, and stops when cleared", () => {
    using coll = Collection.load(BASIC);
    const entry = coll.program("xdp_tail_entry");
    const jmp = coll.map("jmp");
    expect(entry.testRun({ data: udpFrame() }).retval).toBe(XdpAction.PASS);
    jmp.setProgram(0, coll.program("xdp_tail_target").fd);
    expect(entry.testRun({ data: udpFrame() }).retval).toBe(XdpAction.TX);
    const key = new Uint8Array(4);
    expect(jmp.delete(key)).toBe(true);
    expect(entry.testRun({ data: udpFrame() }).retval).toBe(XdpAction.PASS);
  });

  test("a pinned program outlives its collection and is re-opened by path", () => {
    using pins = new PinDir("prog");
    let id: number;
    {
      using coll = Collection.load(BASIC, { constants: { cfg_verdict: XdpAction.DROP } });
      const prog = coll.program("xdp_verdict");
      prog.pin(pins.join("verdict"));
      id = prog.id;
    }
    using prog = Program.fromPin(pins.join("verdict"));
    expect(prog.id).toBe(id);
    expect(prog.name).toBe("xdp_verdict");
    expect(prog.testRun({ data: udpFrame() }).retval).toBe(XdpAction.DROP);
  });
});
