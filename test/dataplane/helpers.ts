// Shared bits of the data-plane tests: build the BPF object (incremental make), compare records.
import { expect } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { FlowRecord } from "../../core/ebpf/abi.ts";
import { sortRecords } from "../../plugins/extractors/xdp/replay.ts";
import { REPO_ROOT } from "../harness/paths.ts";

let built = false;
/** `make -C bpf` once per test process (cheap when up to date). */
export function ensureBpfBuilt(): void {
  if (built) return;
  const r = spawnSync("make", ["-s", "-C", join(REPO_ROOT, "bpf")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`make -C bpf failed:\n${r.stdout}${r.stderr}`);
  built = true;
}

/** A plain, comparable view of a record (bigints and bytes as strings). */
export function plain(r: FlowRecord): Record<string, string | number> {
  const out: Record<string, string | number> = {
    family: r.family,
    proto: r.proto,
    endReason: r.endReason,
    verdict: r.verdict,
    srcPort: r.srcPort,
    dstPort: r.dstPort,
    src: Array.from(r.src).join("."),
    dst: Array.from(r.dst).join("."),
    firstUs: r.firstUs.toString(),
    lastUs: r.lastUs.toString(),
    score: r.score,
    modelSlot: r.modelSlot,
    modelVersion: r.modelVersion,
  };
  r.features.forEach((f, i) => (out[`f${i}`] = f.toString()));
  return out;
}

/** Field-by-field equality of two record sets (order-insensitive), with a readable first difference. */
export function expectSameRecords(kernel: FlowRecord[], reference: FlowRecord[], label: string): void {
  const a = sortRecords([...kernel]).map(plain);
  const b = sortRecords([...reference]).map(plain);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
      expect({ label, index: i, kernel: a[i] }).toEqual({ label, index: i, kernel: b[i]! });
    }
  }
  expect({ label, count: a.length }).toEqual({ label, count: b.length });
}
