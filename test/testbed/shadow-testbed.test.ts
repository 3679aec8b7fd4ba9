// A shadow model over a testbed run (`xids testbed --shadow DIR`): the CIC-IDS-2017 flow-only MLP
// judged in user space beside the shipped matrix MLP in the kernel, on real benign clients and real
// attack tools. The report must account for every flow the pipeline judged, and each differing flow
// must carry the kernel's own verdict on that record against the candidate's. Before the agent
// stops, the real `xids explain` CLI says why each blocked source was blocked.
import { expect, test } from "bun:test";
import { TEST_PREFIX } from "../harness/netns.ts";
import { formatShadowSummary } from "../../client/shadow-summary.ts";
import { Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { TESTBED_MODEL } from "./commands/testbed.ts";
import { runTestbed } from "./run.ts";
import type { ExplainReport } from "../../models/explain/report.ts";
import { xids } from "../core/util.ts";
import { selectScenarios } from "./scenarios.ts";

const CANDIDATE = "models/artifacts/mlp-int32";

test("xids testbed --shadow: agreement over every judged flow, the differing flows with both verdicts; xids explain on each blocked source", async () => {
  const explained = new Map<string, ExplainReport>();
  const texts = new Map<string, string>();
  const run = await runTestbed({
    scenarios: selectScenarios(["web-browse", "ssh-session", "dns-lookups", "nmap-syn", "hydra-ssh"]),
    model: TESTBED_MODEL,
    protect: true,
    seed: 5,
    attackMs: 4_000,
    attackStaggerMs: 500,
    leadMs: 1_000,
    tailMs: 1_000,
    prefix: TEST_PREFIX,
    shadow: CANDIDATE,
    log: (line) => console.log(line),
    // `xids explain` (the real CLI) on each source the kernel blocked, while the agent still runs.
    beforeStop: async ({ controlSocket, blocked }) => {
      for (const address of blocked) {
        const r = await xids(["explain", address, "--socket", controlSocket, "--json"]);
        expect(r.code, r.err).toBe(0);
        explained.set(address, JSON.parse(r.out) as ExplainReport);
        const text = await xids(["explain", address, "--socket", controlSocket]);
        expect(text.code, text.err).toBe(0);
        texts.set(address, text.out);
      }
    },
  });
  const s = run.shadow!;
  expect(s).not.toBeNull();
  console.log(formatShadowSummary(s));
  expect(s.running).toBe(false);
  expect(s.artifactPath.endsWith(CANDIDATE)).toBe(true);
  // Every verdict the pipeline gave went into exactly one bin, and all of them were judged.
  const compared = s.bothAttack + s.bothBenign + s.onlyActive + s.onlyCandidate;
  expect([s.pending, s.failed, s.skipped]).toEqual([0, 0, 0]);
  expect(s.flowsSeen).toBe(compared);
  const judged = run.flows.filter((f) => f.record.kernelVerdict !== Verdict.VERDICT_NONE);
  expect(judged.length).toBeGreaterThan(30);
  expect(s.flowsSeen).toBeGreaterThanOrEqual(judged.length);
  // Both sides call the scan an attack on some flows, and the benign clients benign on most.
  expect(s.bothAttack).toBeGreaterThan(0);
  expect(s.bothBenign).toBeGreaterThan(0);
  // The differing flows: the active side's verdict is the kernel's own on that record.
  const byId = new Map(run.flows.map((f) => [f.record.id, f.record]));
  expect(s.differing.length).toBe(Math.min(s.onlyActive + s.onlyCandidate, Number(s.differingKept)));
  for (const d of s.differing) {
    expect(d.candidateVerdict).not.toBe(d.activeVerdict);
    const r = byId.get(d.record!.id);
    if (r) expect(d.activeVerdict).toBe(r.kernelVerdict);
  }
  // What the policy would have blocked is counted on both sides, and the kernel's blocks agree
  // with the active side: a source the kernel blocked is "both" or "active only".
  const kernelBlocked = run.hosts.filter((h) => h.block !== null).length;
  expect(kernelBlocked).toBeGreaterThan(0);
  expect(s.bothBlocked + s.activeOnlyBlocksTotal).toBeGreaterThanOrEqual(1);

  // Why each source was blocked, from the testbed's own agent: the verdicts against the policy, the
  // flows that decided, each with its top features, whose contributions add up to the model's own
  // score (the kernel's, recomputed by the reference) minus the baseline's.
  expect([...explained.keys()].sort()).toEqual(run.hosts.filter((h) => h.block !== null).map((h) => h.block!.addr).sort());
  for (const [address, rep] of explained) {
    const text = texts.get(address)!;
    console.log(text.split("\n").slice(0, 14).join("\n"));
    expect(text).toContain(`${address}: blocked, reason`);
    expect(text).toContain("method: shapley-permutation");
    expect(rep.blocked).toBe(true);
    expect(rep.window.meetsPolicy).toBe(true);
    expect(rep.window.attacks).toBeGreaterThanOrEqual(3);
    const attacks = rep.flows.filter((f) => f.decision && f.verdict === "attack");
    expect(attacks.length).toBeGreaterThanOrEqual(3);
    for (const f of attacks) {
      const e = f.explanation!;
      expect(e.score).toBe(f.score);
      expect(e.top.length).toBe(5);
      expect(Math.abs(e.contributions.reduce((t, x) => t + x.contribution, 0) - (e.score - e.baselineScore))).toBeLessThan(1e-6);
    }
  }
}, 120_000);
