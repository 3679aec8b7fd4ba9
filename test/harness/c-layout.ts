// Compiles a tiny C program against bpf/xids.h with the host compiler and reports struct sizes,
// member offsets and constant values, so TypeScript mirrors can be checked against the header.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StructCodec } from "../../native/index.ts";
import { REPO_ROOT } from "./paths.ts";

/** Values keyed "sizeof S", "S.field" and, for each expression, its given label. */
export function cLayout(structs: readonly StructCodec<unknown>[], exprs: Record<string, string> = {}): Record<string, number> {
  const lines: string[] = [];
  for (const s of structs) {
    lines.push(`P("sizeof ${s.name}", sizeof(struct ${s.name}));`);
    for (const f of Object.keys(s.offsets)) lines.push(`P("${s.name}.${f}", offsetof(struct ${s.name}, ${f}));`);
  }
  for (const [label, expr] of Object.entries(exprs)) lines.push(`P("${label}", ${expr});`);
  const src = `#include <stdio.h>\n#include <stddef.h>\n#include "xids.h"\n#define P(n, v) printf("%s=%lld\\n", n, (long long)(v))\nint main(void) {\n${lines.join("\n")}\nreturn 0; }\n`;
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

/** The TypeScript side of the same keys, for a toEqual against cLayout(). */
export function tsLayout(structs: readonly StructCodec<unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of structs) {
    out[`sizeof ${s.name}`] = s.size;
    for (const [f, off] of Object.entries(s.offsets)) out[`${s.name}.${f}`] = off;
  }
  return out;
}
