// Leave-one-out on a small synthetic recording whose every count is known: which rows a fold
// trains on and judges, run groups, the block policy replayed over a source's gap-free first
// flows, and the summary's targets.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FEATURES } from "../data/features.ts";
import { NO_AUGMENT } from "../data/augment.ts";
import { looFolds, runGroups } from "./folds.ts";
import { runLoo, trainingRows, type LooOptions } from "./loo.ts";
import { summarizeLoo } from "./loo-report.ts";
import { falsePositivesCsv } from "./false-positives.ts";
import { contiguousPrefix, loadRecordings, shortPrefixes } from "./recordings.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-loo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two runs; per run a benign web client (20 flows), two scanners (nmap, masscan: 10 flows each,
// port varies, 1 packet) and two brute forcers (hydra, medusa: 8 flows each to port 22). The
// attacks are unmistakable, so a tree trained without one tool still catches it.
const header = ["Run", "Scenario", "Tool", "Seq", "Link", "Family", "Src IP", "First Seen us", "Ended us", ...FEATURES.map((f) => f.name), "Label"];
const lines = [header.join(",")];
const hosts = [
  { scenario: "web", tool: "curl", label: "BENIGN", n: 20, port: () => 80, pkts: 30 },
  { scenario: "nmap-syn", tool: "nmap", label: "PortScan", n: 10, port: (i: number) => 1000 + i, pkts: 1 },
  { scenario: "masscan", tool: "masscan", label: "PortScan", n: 10, port: (i: number) => 2000 + i, pkts: 1 },
  { scenario: "hydra-ssh", tool: "hydra", label: "SSH-BruteForce", n: 8, port: () => 22, pkts: 14 },
  { scenario: "medusa-ssh", tool: "medusa", label: "SSH-BruteForce", n: 8, port: () => 22, pkts: 16 },
];
for (const run of ["seed1", "seed2"]) {
  hosts.forEach((h, k) => {
    for (let i = 0; i < h.n; i++) {
      // masscan of seed2 was sampled: its flow 5 is missing, so the policy replays flows 0..4 only.
      if (run === "seed2" && h.scenario === "masscan" && i === 5) continue;
      const f = FEATURES.map((d) => (d.index === 0 ? h.port(i) : d.index === 1 ? 6 : d.index === 2 ? h.pkts : d.index === 23 ? (h.label === "BENIGN" ? 3 : 40) : 0));
      const t = 1_000_000 * (i + 1);
      lines.push([run, h.scenario, h.tool, i, k % 2 ? "wan" : "lan", 4, `198.18.${10 + k}.2`, t, t + 500_000, ...f, h.label].join(","));
    }
  });
}
writeFileSync(join(dir, "rec.csv"), lines.join("\n") + "\n");
const rec = loadRecordings(join(dir, "rec.csv"));

const opt: LooOptions = {
  model: { kind: "dt", features: [0, 1, 2, 23], alpha: 0.005, maxDepth: 4, mlp: { hidden: [4], epochs: 1, batch: 8, lr: 0.01, l2: 0, seed: 1, scaler: "standard", xmaxQuantile: 1, targetFpr: 0 } },
  policy: { minAttacks: 3, minAttackPct: 50, windowUs: 30_000_000 },
  maxTrainPerSource: 1_000, maxTrainPerBenignSource: 1_000, valShare: 0.2, valRuns: 0, scenarioWeightPower: 0.5, benignBoost: 1, augment: NO_AUGMENT, seed: 1, log: () => {},
};

test("sources, their flows in Seq order, and the gap-free prefix the policy replays", () => {
  expect(rec.bySource.size).toBe(10);
  expect(rec.bySource.get("seed1/web")!.length).toBe(20);
  expect(contiguousPrefix(rec, "seed1/masscan").length).toBe(10);
  expect(contiguousPrefix(rec, "seed2/masscan").length).toBe(5);
  // A recording xids made keeps a source's first 500 flows whole: a gap there is reported.
  expect(shortPrefixes(rec)).toEqual([{ source: "seed2/masscan", prefix: 5, rows: 9 }]);
});

test("folds: one per held-out tool, link band or benign kind, crossed with the run groups", () => {
  expect(runGroups(rec.rows, 2)).toEqual([["seed1"], ["seed2"]]);
  expect(() => runGroups(rec.rows, 1)).toThrow(/need 2..2/);
  expect(() => runGroups(rec.rows, 3)).toThrow(/need 2..2/);
  const names = looFolds(rec.rows, ["tool", "benign", "link"], 2).map((f) => f.name);
  expect(names).toEqual([
    "PortScan/masscan@1", "PortScan/masscan@2", "PortScan/nmap@1", "PortScan/nmap@2",
    "SSH-BruteForce/hydra@1", "SSH-BruteForce/hydra@2", "SSH-BruteForce/medusa@1", "SSH-BruteForce/medusa@2",
    "BENIGN/web@1", "BENIGN/web@2", "link/lan@1", "link/lan@2", "link/wan@1", "link/wan@2",
  ]);
});

test("a tool fold trains on the other runs without that tool and judges it and the benign flows of its runs", () => {
  const folds = looFolds(rec.rows, ["tool"], 2).filter((f) => f.heldOutName === "SSH-BruteForce/hydra");
  const out = runLoo(rec, folds, opt);
  const [g1, g2] = out;
  // Trained on seed2 without hydra: web 20 + nmap 10 + masscan 9 + medusa 8.
  expect(g1!.trainRows).toBe(47);
  // Judged on seed1: hydra's 8 flows and the web client's 20.
  expect(g1!.judgedRows).toBe(28);
  expect(g1!.sources.map((s) => [s.source, s.heldOut, s.attack])).toEqual([["seed1/hydra-ssh", true, true], ["seed1/web", false, false]]);
  const hydra = g1!.sources[0]!;
  expect([hydra.flows, hydra.flagged, hydra.blocked, hydra.flowsBeforeBlock]).toEqual([8, 8, true, 3]);
  // The third attack verdict blocks it: its Ended us is 3.5 s after its first packet at 1 s.
  expect(hydra.msBeforeBlock).toBe(2_500);
  expect(g1!.falsePositives).toEqual([]); // the web client's flows all judged benign
  expect(g2!.trainRows).toBe(20 + 10 + 10 + 8);
  const s = summarizeLoo(out);
  expect(s.headline).toMatchObject({ attackFlows: 16, attackRecall: 1, attackSources: 2, attackSourcesBlocked: 2, medianFlowsBeforeBlock: 3, benignFlows: 40, benignJudgements: 40, benignFalsePositives: 0, benignSources: 2, benignSourcesBlocked: 0 });
  expect(s.checks.find((c) => c.what.startsWith("over >="))).toMatchObject({ ok: false, value: "40" }); // far below 20,000
  // Per link band: the web clients of both runs are behind "lan".
  expect(s.benignByBand.map((r) => [r.fold, r.scenario, r.sources, r.flows, r.flagged])).toEqual([["lan", "web", 2, 40, 0]]);
  expect(s.checks.filter((c) => c.ok).map((c) => c.what)).toEqual([
    "every held-out tool's source blocked", "median flows before the block <= 5", "pooled attack flow recall >= 0.95",
    "benign flow FPR <= 0.10 %", "no benign source blocked",
  ]);
});

test("a source whose replayable prefix ends before the block is not counted as blocked", () => {
  const strict = { ...opt, policy: { minAttacks: 6, minAttackPct: 50, windowUs: 30_000_000 } };
  const out = runLoo(rec, looFolds(rec.rows, ["tool"], 2).filter((f) => f.name === "PortScan/masscan@2"), strict);
  const masscan = out[0]!.sources.find((s) => s.scenario === "masscan")!;
  expect([masscan.flows, masscan.flagged, masscan.replayed, masscan.blocked]).toEqual([9, 9, 5, false]);
  expect(summarizeLoo(out).checks[0]).toMatchObject({ ok: false, value: "not blocked: seed2/masscan (PortScan/masscan)" });
});

test("validation on whole runs: every row of the chosen run(s) validates, none of them trains", () => {
  const three = [header.join(",")];
  for (const run of ["seed1", "seed2", "seed3"]) {
    hosts.forEach((h, k) => {
      for (let i = 0; i < h.n; i++) {
        const f = FEATURES.map((d) => (d.index === 0 ? h.port(i) : d.index === 2 ? h.pkts : 0));
        three.push([run, h.scenario, h.tool, i, "lan", 4, `198.18.${10 + k}.2`, i, i + 1, ...f, h.label].join(","));
      }
    });
  }
  writeFileSync(join(dir, "three.csv"), three.join("\n") + "\n");
  const r3 = loadRecordings(join(dir, "three.csv"));
  const kept = new Map([...r3.bySource].map(([s, rows]) => [s, rows.slice()]));
  const mlp = { ...opt, model: { ...opt.model, kind: "mlp" as const } };
  const byRow = trainingRows(r3, kept, { ...mlp, valRuns: 1 }, 7);
  const runsOf = (rows: number[]) => [...new Set(rows.map((i) => r3.rows[i]!.run))].sort();
  expect(runsOf(byRow.val)).toHaveLength(1);
  expect(byRow.val.length).toBe(56); // every flow of one run's five hosts
  expect(runsOf(byRow.train)).not.toContain(runsOf(byRow.val)[0]);
  expect(byRow.train.length + byRow.val.length).toBe(3 * 56);
  // The row share, as before: a fifth of each source's rows, from every run.
  const share = trainingRows(r3, kept, { ...mlp, valRuns: 0 }, 7);
  expect(runsOf(share.val)).toEqual(["seed1", "seed2", "seed3"]);
  expect(share.val.length).toBe(3 * (4 + 2 + 2 + 1 + 1));
  expect(() => trainingRows(r3, kept, { ...mlp, valRuns: 3 }, 7)).toThrow(/leave no run to train on/);
});

test("the false positives' CSV names the fold, the flow and its time since the source's first flow, then every feature", () => {
  const web = rec.bySource.get("seed2/web")!;
  const outcome = { name: "PortScan/nmap@2", kind: "tool" as const, heldOutName: "PortScan/nmap", trainRows: 0, judgedRows: 0, model: "", sources: [], falsePositives: [web[0]!, web[3]!] };
  const csv = falsePositivesCsv(rec, [outcome]).trim().split("\n").map((l) => l.split(","));
  expect(csv[0]!.slice(0, 6)).toEqual(["Fold", "Run", "Scenario", "Seq", "Since Source Start ms", FEATURES[0]!.name]);
  expect(csv[0]!.length).toBe(5 + FEATURES.length);
  // Flow 3 of the web client began 3 s after its first; its port 80, protocol 6, 30 packets.
  expect(csv.slice(1).map((l) => l.slice(0, 8))).toEqual([
    ["PortScan/nmap@2", "seed2", "web", "0", "0.0", "80", "6", "30"],
    ["PortScan/nmap@2", "seed2", "web", "3", "3000.0", "80", "6", "30"],
  ]);
});
