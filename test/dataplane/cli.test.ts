// `xids replay`: kernel and reference CSVs are byte-identical; the columns are CIC-IDS-2017 names.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHIPPED_MLP } from "../../core/config/config.ts";
import { CSV_COLUMNS } from "../../plugins/extractors/xdp/csv.ts";
import { REPO_ROOT, sharedPath } from "../harness/paths.ts";
import { ensureBpfBuilt } from "./helpers.ts";

function xids(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "core/main.ts"), ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const CAPTURE = sharedPath("pcaps/dpkt/dns_icmp.pcap", "replay CLI on a shared capture");
const DATASET = sharedPath("datasets/cic-ids-2017-improved", "CSV column names against the data set");
const SYNSCAN = sharedPath("pcaps/chrissanders/synscan.pcapng", "replay as a configured agent");

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

  test.skipIf(SYNSCAN === null)("--config judges a capture as that agent would: its timeouts, its model, its blocks", () => {
    ensureBpfBuilt();
    const dir = mkdtempSync(join(tmpdir(), "xids-replay-"));
    try {
      const cfg = join(dir, "agent.yaml");
      writeFileSync(cfg, `dataplane: { idle_timeout_ms: 2000, active_timeout_ms: 3000 }
pipeline: { block: { ttl_seconds: 60, reason: 6, min_attacks: 2, min_attack_pct: 50, window_seconds: 30 } }
plugins:
  - { id: kernel, kind: model, builtin: kernel, config: { artifact: ${SHIPPED_MLP} } }
`);
      const live = xids(["replay", SYNSCAN!, "--kernel", "--config", cfg, "--out", join(dir, "live.csv")]);
      const judged = xids(["replay", SYNSCAN!, "--kernel", "--model", SHIPPED_MLP, "--idle-timeout", "2", "--active-timeout", "3", "--out", join(dir, "verdicts.csv")]);
      expect([live.code, judged.code]).toEqual([0, 0]);
      expect(live.stderr).toContain("idle 2000 ms, active 3000 ms, early end 0");
      expect(live.stderr).toContain("blocking");
      // The scanner (172.16.0.8 sends every SYN in the capture) is blocked (reason 6), so most
      // of its probes never become flows; the scanned host answering it is not.
      expect(live.stderr).toMatch(/blocked \d+ source\(s\), \d+ packet\(s\) dropped/);
      expect(live.stderr).toMatch(/172\.16\.0\.8 \(reason 6/);
      expect(live.stderr).not.toMatch(/64\.13\.134\.52 \(reason/);
      const dropped = Number(/, (\d+) packet\(s\) dropped/.exec(live.stderr)![1]);
      expect(dropped).toBeGreaterThan(1000);
      const rows = (f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n").length - 1;
      expect(rows("live.csv")).toBeLessThan(rows("verdicts.csv"));
      const byDefault = xids(["replay", SYNSCAN!, "--kernel", "--config", "default", "--out", join(dir, "d.csv")]);
      expect(byDefault.stderr).toContain(`idle 2000 ms, active 3000 ms, early end 0, model ${SHIPPED_MLP}, blocking`);
      expect(xids(["replay", SYNSCAN!, "--reference", "--config", "default"]).stderr).toContain("--config judges in the kernel: use it with --kernel");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("usage errors are clear", () => {
    expect(xids(["replay"]).stderr).toContain("a capture file is required");
    expect(xids(["replay", "x.pcap", "--kernel", "--reference"]).stderr).toContain("exactly one of --kernel and --reference");
    expect(xids(["replay", "/nonexistent.pcap", "--reference"]).code).toBe(1);
  });

  test.skipIf(DATASET === null)("the feature columns are named as in the CIC-IDS-2017 (improved) data set", () => {
    const dir = DATASET!;
    const file = readdirSync(dir).find((f) => f.endsWith(".csv"))!;
    const header = readFileSync(join(dir, file), "utf8").slice(0, 8192).split("\n")[0]!.split(",").map((s) => s.trim());
    // The flow features have CIC names; the source context (Src ...), the first payload's scan (Fwd First ...) and what the ACKs acknowledged (Fwd Acked ...) are ours alone.
    const ours = CSV_COLUMNS.filter((c) => !/^(Flow First Seen|Flow Last Seen|End Reason|Verdict|Score|Src |Fwd First |Fwd Acked )/.test(c));
    expect(ours.filter((c) => !header.includes(c))).toEqual([]);
  });
});
