import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO, TempDir } from "./util.ts";

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("generated proto code", () => {
  test("regenerating proto/gen gives byte-identical files", async () => {
    using tmp = new TempDir();
    const out = tmp.file("gen");
    const p = Bun.spawn(["bash", join(REPO, "scripts/gen-proto.sh"), out], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const code = await p.exited;
    expect(code === 0 ? "" : await new Response(p.stderr).text()).toBe("");
    const committed = join(REPO, "proto/gen");
    expect(files(out)).toEqual(files(committed));
    for (const f of files(committed)) expect(readFileSync(join(out, f), "utf8")).toBe(readFileSync(join(committed, f), "utf8"));
  });
});
