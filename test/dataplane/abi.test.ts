// The TypeScript mirror (core/dataplane/abi.ts) against the ONE header (bpf/xids.h): every struct
// size and member offset, every enum value and constant, compiled with the host C compiler; and
// the loaded object's map key/value sizes against the codecs.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as abi from "../../core/dataplane/abi.ts";
import { DataPlane } from "../../core/dataplane/dataplane.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { ensureBpfBuilt } from "./helpers.ts";

function cLayout(): Record<string, number> {
  const lines: string[] = [];
  for (const s of abi.STRUCTS) {
    lines.push(`P("sizeof ${s.name}", sizeof(struct ${s.name}));`);
    for (const f of Object.keys(s.offsets)) lines.push(`P("${s.name}.${f}", offsetof(struct ${s.name}, ${f}));`);
  }
  for (const k of Object.keys(abi.EndReason)) lines.push(`P("end ${k}", XIDS_END_${k.toUpperCase()});`);
  for (const k of Object.keys(abi.Counter)) lines.push(`P("counter ${k}", XIDS_C_${k === "max" ? "_MAX" : k.toUpperCase()});`);
  for (const k of Object.keys(abi.Verdict)) lines.push(`P("verdict ${k}", XIDS_VERDICT_${k.toUpperCase()});`);
  for (const k of Object.keys(abi.SweepMode)) lines.push(`P("sweep ${k}", XIDS_SWEEP_${k.toUpperCase()});`);
  for (const k of ["NUM_FEATURES", "MAX_VLAN", "MAX_IPV6_EXT", "MAX_HDR_OFF", "MAX_BLOCK_REASONS", "SWEEP_MAGIC", "FL_FWD_IS_B", "FL_RST"]) {
    lines.push(`P("const ${k}", XIDS_${k});`);
  }
  const src = `#include <stdio.h>\n#include <stddef.h>\n#include "xids.h"\n#define P(n, v) printf("%s=%lu\\n", n, (unsigned long)(v))\nint main(void) {\n${lines.join("\n")}\nreturn 0; }\n`;
  const dir = mkdtempSync(join(tmpdir(), "xids-abi-"));
  try {
    writeFileSync(join(dir, "abi.c"), src);
    const cc = spawnSync("cc", ["-I", join(REPO_ROOT, "bpf"), "-o", join(dir, "abi"), join(dir, "abi.c")], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(`host compile of xids.h failed:\n${cc.stderr}`);
    const run = spawnSync(join(dir, "abi"), { encoding: "utf8" });
    return Object.fromEntries(run.stdout.trim().split("\n").map((l) => [l.split("=")[0]!, Number(l.split("=")[1])]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("abi.ts mirrors bpf/xids.h", () => {
  const c = cLayout();

  test("struct sizes and member offsets", () => {
    const ts: Record<string, number> = {};
    for (const s of abi.STRUCTS) {
      ts[`sizeof ${s.name}`] = s.size;
      for (const [f, off] of Object.entries(s.offsets)) ts[`${s.name}.${f}`] = off;
    }
    const cs = Object.fromEntries(Object.entries(c).filter(([k]) => k in ts));
    expect(ts).toEqual(cs);
    expect(abi.FlowAccStruct.size + abi.Flow4Key.size).toBe(80); // bytes per IPv4 flow entry (key + value)
  });

  test("enums and constants", () => {
    for (const [k, v] of Object.entries(abi.EndReason)) expect([k, c[`end ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.Counter)) expect([k, c[`counter ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.Verdict)) expect([k, c[`verdict ${k}`]]).toEqual([k, v]);
    for (const [k, v] of Object.entries(abi.SweepMode)) expect([k, c[`sweep ${k}`]]).toEqual([k, v]);
    const consts: Record<string, number> = {
      NUM_FEATURES: abi.NUM_FEATURES, MAX_VLAN: abi.MAX_VLAN, MAX_IPV6_EXT: abi.MAX_IPV6_EXT, MAX_HDR_OFF: abi.MAX_HDR_OFF,
      MAX_BLOCK_REASONS: abi.MAX_BLOCK_REASONS, SWEEP_MAGIC: abi.SWEEP_MAGIC, FL_FWD_IS_B: abi.FL_FWD_IS_B, FL_RST: abi.FL_RST,
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
    expect(sizes(abi.MAPS.counters)).toEqual([4, 8]);
    expect(sizes(abi.MAPS.scratch)).toEqual([4, abi.FlowRecordStruct.size]);
    expect(dp.coll.map(abi.MAPS.counters).maxEntries).toBe(abi.NUM_COUNTERS);
    expect(dp.coll.map(abi.MAPS.flows4).maxEntries).toBe(1024);
    const progs = [...dp.coll.programs.keys()];
    for (const p of Object.values(abi.PROGRAMS)) expect(progs).toContain(p);
  });
});
