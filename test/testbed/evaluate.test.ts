// The testbed's scoring on a hand-made run: confusion counts, per-category accuracy and MTTF,
// block and latency per host, and the CSV data set read back by the training loader.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlowRecord, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { evaluateRun } from "./evaluate.ts";
import { capPerScenario, leaveOut, writeFlowsCsv } from "./dataset.ts";
import type { HostOutcome, LabelledFlow, TestbedRun } from "./run.ts";
import type { Scenario } from "./scenario.ts";
import { loadCsv } from "../../models/data/csv.ts";
import { N_FEATURES } from "../../models/data/features.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-testbed-eval-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenario = (id: string, label: string): Scenario => ({ id, label, tool: "test", description: id, ipv6: true, run: async () => ({ actions: 0 }) });
const web = scenario("web", "BENIGN"), scan = scenario("scan", "PortScan"), flood = scenario("flood", "DoS");

function flow(s: Scenario, ip: string, verdict: Verdict, firstUs: number, dstPort = 80): LabelledFlow {
  const features = Array.from({ length: N_FEATURES }, (_, i) => i * 10 + firstUs % 7);
  features[0] = dstPort;
  return { scenario: s.id, label: s.label, tool: s.tool, seq: Math.floor(firstUs / 1000), endedUs: firstUs + 2005, link: "none", record: FlowRecord.create({ family: 4, srcAddr: ip, dstAddr: "198.18.10.1", srcPort: 40000, dstPort, firstUs, lastUs: firstUs + 5, kernelVerdict: verdict, features }) };
}

function host(s: Scenario, ip: string, block: HostOutcome["block"]): HostOutcome {
  return { scenario: s, ip, startedNs: 0n, endedNs: 0n, result: { actions: 1 }, block };
}

const B = Verdict.VERDICT_BENIGN, A = Verdict.VERDICT_ATTACK, N = Verdict.VERDICT_NONE;
const run: TestbedRun = {
  family: 4,
  skipped: [],
  flows: [
    flow(web, "198.18.10.2", B, 1_000), flow(web, "198.18.10.2", B, 2_000), flow(web, "198.18.10.2", A, 3_000), flow(web, "198.18.10.2", B, 4_000),
    flow(scan, "198.18.11.2", A, 10_000), flow(scan, "198.18.11.2", A, 11_000), flow(scan, "198.18.11.2", N, 12_000),
    flow(flood, "198.18.12.2", B, 20_000),
  ],
  capture: null,
  shadow: null,
  strays: 0,
  straySources: {},
  linkLocal: 0,
  linkLocalJudged: 0,
  linkLocalBlocked: 0,
  hosts: [
    host(web, "198.18.10.2", null),
    // Blocked 4 ms after its first packet (10,000 µs), first drop 2.5 ms later.
    host(scan, "198.18.11.2", { addr: "198.18.11.2", family: 4, reason: 2, expiresNs: 0n, hits: 9n, addedNs: 14_000_000n, firstDropNs: 16_500_000n }),
    host(flood, "198.18.12.2", null),
  ],
  xdpMode: "native", model: null, counters: {}, lostRecords: 0, seed: 1, durationMs: 1,
};

test("confusion counts, F1 and FPR; a flow without a verdict counts as not blocked", () => {
  const ev = evaluateRun(run);
  expect([ev.tp, ev.fp, ev.tn, ev.fn, ev.unclassified]).toEqual([2, 1, 3, 2, 1]);
  expect(ev.precision).toBeCloseTo(2 / 3, 12);
  expect(ev.recall).toBeCloseTo(2 / 4, 12);
  expect(ev.f1).toBeCloseTo((2 * (2 / 3) * 0.5) / (2 / 3 + 0.5), 12);
  expect(ev.fpr).toBeCloseTo(1 / 4, 12);
});

test("per category accuracy and mean flows between errors (MTTF); benign first", () => {
  const ev = evaluateRun(run);
  expect(ev.categories.map((c) => [c.label, c.flows, c.errors, c.mttf])).toEqual([
    ["BENIGN", 4, 1, 4],
    ["DoS", 1, 1, 1],
    ["PortScan", 3, 1, 3],
  ]);
  expect(ev.categories[0]!.accuracy).toBe(0.75);
});

test("blocks and detection latency per host, from the host's first packet", () => {
  const ev = evaluateRun(run);
  const scanRow = ev.hosts.find((h) => h.scenario === "scan")!;
  expect(scanRow).toMatchObject({ flows: 3, detected: 2, blocked: true, blockAfterMs: 4, latencyMs: 6.5, dropped: 9 });
  expect(ev.detection_latency_ms).toEqual({ scan: 7, flood: null });
  expect([ev.attacks_blocked, ev.attacks_total, ev.benign_blocked, ev.benign_total]).toEqual([1, 2, 0, 1]);
});

test("the recorded CSV is a data set the training loader reads: features, labels and classes intact", () => {
  const path = join(dir, "run", "flows.csv");
  writeFlowsCsv(path, run.flows, "seed7");
  const d = loadCsv(path);
  expect(d.meta.get("Run")!.every((r) => r === "seed7")).toBe(true);
  expect(d.meta.get("Scenario")![0]).toBe(run.flows[0]!.scenario);
  expect(d.meta.get("Ended us")![0]).toBe(String(run.flows[0]!.endedUs));
  expect(d.meta.get("Tool")![0]).toBe("test");
  expect(d.meta.get("Seq")![0]).toBe(String(run.flows[0]!.seq));
  expect(d.n).toBe(8);
  expect(d.report.classes).toEqual({ BENIGN: 4, PortScan: 3, DoS: 1 });
  // Rows are written in first-packet order; the loader keeps file order.
  expect(Array.from(d.y)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  expect(Array.from(d.x.slice(0, N_FEATURES))).toEqual(run.flows[0]!.record.features);
  expect(d.features.length).toBe(N_FEATURES); // a recording carries the source context
});

test("a capped recording keeps each scenario's first flows without a gap, then a sample of the rest", () => {
  const many = Array.from({ length: 3_000 }, (_, i) => flow(flood, "198.18.12.2", A, 1_000 * i));
  const few = Array.from({ length: 40 }, (_, i) => flow(web, "198.18.10.2", B, 1_000 * i + 500));
  const kept = capPerScenario([...many, ...few], 1_000, 5, 300);
  const floods = kept.filter((f) => f.scenario === flood.id);
  expect(floods.length).toBe(1_000);
  expect(floods.slice(0, 300).map((f) => f.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  expect(floods[300]!.seq).toBeGreaterThan(300); // the sample starts after the prefix, with gaps
  expect(kept.filter((f) => f.scenario === web.id).length).toBe(40); // under the cap: all of them
  const seqs = floods.map((f) => f.seq);
  expect(seqs).toEqual(seqs.slice().sort((a, b) => a - b)); // arrival order kept
});

test("flows left out of a recording take their Seq with them: each source's Seq still runs without a gap", () => {
  const flows = [flow(web, "198.18.10.2", B, 0), flow(web, "198.18.10.2", B, 1_000), flow(scan, "198.18.11.2", A, 1_500), flow(web, "198.18.10.2", B, 2_000), flow(scan, "198.18.11.2", A, 2_500)];
  const left = leaveOut(flows, (f) => f.record.firstUs === 1_000 || f.record.firstUs === 1_500);
  expect(left.map((f) => [f.scenario, f.seq, f.record.firstUs])).toEqual([["web", 0, 0], ["web", 1, 2_000], ["scan", 0, 2_500]]);
  expect(flows[3]!.seq).toBe(2); // the input is not changed
});
