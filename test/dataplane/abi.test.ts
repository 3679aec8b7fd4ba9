// The TypeScript mirror (core/ebpf/abi.ts) against the ONE header (bpf/xids.h): every struct
// size and member offset, every enum value and constant, compiled with the host C compiler; and
// the loaded object's map key/value sizes against the codecs.
import { describe, expect, test } from "bun:test";
import * as core from "../../core/ebpf/abi.ts";
import * as kernel from "./kernel-structs.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { cLayout, tsLayout } from "../harness/c-layout.ts";
import { ensureBpfBuilt } from "./helpers.ts";
import { ACK_MAX_STEP } from "../../plugins/extractors/xdp/features.ts";

const abi = { ...core, ...kernel, STRUCTS: [...core.STRUCTS, ...kernel.KERNEL_STRUCTS] };

function cLayoutOfAbi(): Record<string, number> {
  const exprs: Record<string, string> = {};
  for (const k of Object.keys(abi.EndReason)) exprs[`end ${k}`] = `XIDS_END_${k.toUpperCase()}`;
  for (const k of Object.keys(abi.Counter)) exprs[`counter ${k}`] = `XIDS_C_${k === "max" ? "_MAX" : k.toUpperCase()}`;
  for (const k of Object.keys(abi.Verdict)) exprs[`verdict ${k}`] = `XIDS_VERDICT_${k.toUpperCase()}`;
  for (const k of Object.keys(abi.SweepMode)) exprs[`sweep ${k}`] = `XIDS_SWEEP_${k.toUpperCase()}`;
  for (const k of Object.keys(abi.BlockAction)) exprs[`block ${k}`] = `XIDS_BLOCK_${k.toUpperCase()}`;
  exprs["stage sweep"] = "XIDS_STAGE_SWEEP";
  for (const k of ["NUM_FEATURES", "NUM_FLOW_FEATURES", "NUM_CONTEXT_FEATURES", "NUM_PAYLOAD_FEATURES", "NUM_ACKED_FEATURES", "MAX_VLAN", "MAX_IPV6_EXT", "MAX_HDR_OFF", "MAX_BLOCK_REASONS", "SWEEP_MAGIC", "FL_FWD_IS_B", "FL_RST", "FL_SYN0", "FL_ACK", "ACK_MAX_STEP", "CTX_PORT_WORDS", "CTX_SAME_PORT", "ALLOW_USED_V4", "ALLOW_USED_V6"]) {
    exprs[`const ${k}`] = `XIDS_${k}`;
  }
  return cLayout(abi.STRUCTS, exprs);
}

describe("abi.ts mirrors bpf/xids.h", () => {
  const c = cLayoutOfAbi();

  test("struct sizes and member offsets", () => {
    const ts = tsLayout(abi.STRUCTS);
    const cs = Object.fromEntries(Object.entries(c).filter(([k]) => k in ts));
    expect(ts).toEqual(cs);
    expect(abi.FlowAccStruct.size + abi.Flow4Key.size).toBe(96); // bytes per IPv4 flow entry (key + value; 78 of the value used, padded to 80)
  });

  test("enums and constants", () => {
    for (const [k, v] of Object.entries(abi.EndReason)) expect([k, c[`end ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.Counter)) expect([k, c[`counter ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.Verdict)) expect([k, c[`verdict ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.SweepMode)) expect([k, c[`sweep ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.BlockAction)) expect([k, c[`block ${k}`]]).toEqual([k, v]);
    expect(c["stage sweep"]).toBe(abi.STAGE_SWEEP);
    const consts: Record<string, number> = {
      NUM_FEATURES: abi.NUM_FEATURES, NUM_FLOW_FEATURES: abi.NUM_FLOW_FEATURES, NUM_CONTEXT_FEATURES: abi.NUM_CONTEXT_FEATURES, NUM_PAYLOAD_FEATURES: abi.NUM_PAYLOAD_FEATURES, NUM_ACKED_FEATURES: abi.NUM_ACKED_FEATURES,
      MAX_VLAN: abi.MAX_VLAN, MAX_IPV6_EXT: abi.MAX_IPV6_EXT, MAX_HDR_OFF: abi.MAX_HDR_OFF,
      MAX_BLOCK_REASONS: abi.MAX_BLOCK_REASONS, SWEEP_MAGIC: abi.SWEEP_MAGIC, FL_FWD_IS_B: abi.FL_FWD_IS_B, FL_RST: abi.FL_RST,
      FL_SYN0: abi.FL_SYN0, FL_ACK: abi.FL_ACK, ACK_MAX_STEP, CTX_PORT_WORDS: abi.CTX_PORT_WORDS, CTX_SAME_PORT: abi.CTX_SAME_PORT,
      ALLOW_USED_V4: abi.ALLOW_USED.v4, ALLOW_USED_V6: abi.ALLOW_USED.v6,
    };
    for (const [k, v] of Object.entries(consts)) expect([k, c[`const ${k}`]]).toEqual([k, v]);
    expect(abi.COUNTER_NAMES.length).toBe(abi.NUM_COUNTERS);
    expect(abi.COUNTER_NAMES.every((n) => typeof n === "string")).toBe(true);
  });

  test("the loaded object's maps have the codecs' key and value sizes", () => {
    ensureBpfBuilt();
    using dp = DataPlane.load({ flowsV4: 1024, flowsV6: 1024 });
    const sizes = (name: string) => {
      const m = dp.coll.map(name);
      return [m.keySize, m.valueSize];
    };
    expect(sizes(abi.MAPS.flows4)).toEqual([abi.Flow4Key.size, abi.FlowAccStruct.size]);
    expect(sizes(abi.MAPS.flows6)).toEqual([abi.Flow6Key.size, abi.FlowAccStruct.size]);
    expect(sizes(abi.MAPS.blocklist)).toEqual([abi.BlockKey.size, abi.BlockVal.size]);
    expect(sizes(abi.MAPS.allow4)).toEqual([abi.Lpm4Key.size, 4]);
    expect(sizes(abi.MAPS.allow6)).toEqual([abi.Lpm6Key.size, 4]);
    expect(sizes(abi.MAPS.allowUsed)).toEqual([4, 4]);
    expect(sizes(abi.MAPS.counters)).toEqual([4, abi.CounterBlock.size]); // one block of every counter per CPU
    expect(sizes(abi.MAPS.scratch)).toEqual([4, abi.FlowRecordStruct.size]);
    expect(sizes(abi.MAPS.srcctx)).toEqual([abi.BlockKey.size, abi.SrcCtx.size]);
    expect(abi.CounterBlock.size).toBe(8 * abi.NUM_COUNTERS);
    expect(dp.coll.map(abi.MAPS.counters).maxEntries).toBe(1);
    expect(dp.coll.map(abi.MAPS.flows4).maxEntries).toBe(1024);
    const progs = [...dp.coll.programs.keys()];
    for (const p of Object.values(abi.PROGRAMS)) expect(progs).toContain(p);
  });
});
