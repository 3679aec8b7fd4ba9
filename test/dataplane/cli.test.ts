// `xids replay`: kernel and reference CSVs are byte-identical; the columns are CIC-IDS-2017 names.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CSV_COLUMNS } from "../../plugins/extractors/xdp/csv.ts";
import { REPO_ROOT, sharedPath } from "../harness/paths.ts";
import { ensureBpfBuilt } from "./helpers.ts";

function xids(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "core/main.ts"), ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const CAPTURE = sharedPath("pcaps/dpkt/dns_icmp.pcap", "replay CLI on a shared capture");
const DATASET = sharedPath("datasets/cic-ids-2017-improved", "CSV column names against the data set");

describe("xids replay", () => {
  test.skipIf(CAPTURE === null)("--kernel and --reference write identical CSV", () => {
    const cap = CAPTURE!;
    ensureBpfBuilt();
    const dir = mkdtempSync(join(tmpdir(), "xids-replay-"));
    try {
      const k = xids(["replay", cap, "--kernel", "--out", join(dir, "k.csv")]);
      const r = xids(["replay", cap, "--reference", "--out", join(dir, "r.csv")]);
      expect([k.code, r.code]).toEqual([0, 0]);
      const kc = readFileSync(join(dir, "k.csv"), "utf8");
      expect(kc).toBe(readFileSync(join(dir, "r.csv"), "utf8"));
      const lines = kc.trim().split("\n");
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.every((l) => l.split(",").length === CSV_COLUMNS.length)).toBe(true);
      expect(k.stderr).toContain(`${lines.length - 1} flows`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test.skipIf(CAPTURE === null)("a capture cut short is replayed up to the cut, the damage reported, exit status 3", () => {
    const bytes = readFileSync(CAPTURE!);
    const dir = mkdtempSync(join(tmpdir(), "xids-replay-"));
    try {
      const cut = join(dir, "cut.pcap");
      writeFileSync(cut, bytes.subarray(0, bytes.length - 7)); // the last record loses its tail
      const whole = xids(["replay", CAPTURE!, "--reference", "--out", join(dir, "whole.csv")]);
      const part = xids(["replay", cut, "--reference", "--out", join(dir, "cut.csv")]);
      expect(whole.code).toBe(0);
      expect(part.code).toBe(3);
      expect(part.stderr).toMatch(/the capture is damaged: .*cut\.pcap: truncated record at \d+; the \d+ complete packets before it were replayed/);
      const packets = (s: string) => Number(/: (\d+) packets/.exec(s)![1]);
      expect(packets(part.stderr)).toBe(packets(whole.stderr) - 1);
      expect(readFileSync(join(dir, "cut.csv"), "utf8").split("\n").length).toBeGreaterThan(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("usage errors are clear", () => {
    expect(xids(["replay"]).stderr).toContain("a capture file is required");
    expect(xids(["replay", "x.pcap", "--kernel", "--reference"]).stderr).toContain("exactly one of --kernel and --reference");
    expect(xids(["replay", "/nonexistent.pcap", "--reference"]).code).toBe(1);
  });

  test.skipIf(DATASET === null)("the feature columns are named as in the CIC-IDS-2017 (improved) data set", () => {
    const dir = DATASET!;
    const file = readdirSync(dir).find((f) => f.endsWith(".csv"))!;
    const header = readFileSync(join(dir, file), "utf8").slice(0, 8192).split("\n")[0]!.split(",").map((s) => s.trim());
    const ours = CSV_COLUMNS.filter((c) => !/^(Flow First Seen|Flow Last Seen|End Reason|Verdict|Score)/.test(c));
    expect(ours.filter((c) => !header.includes(c))).toEqual([]);
  });
});
