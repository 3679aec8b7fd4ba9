// Shadow models on a real data plane: the agent runs the shipped matrix MLP in the kernel (XDP on
// a veth in a test namespace) while a client namespace browses a web server and a spoofed source
// runs a bounded nmap SYN scan. A candidate under shadow is judged on every flow the pipeline
// gave a verdict: the same model agrees on every flow (the kernel and the reference agree bit for
// bit); the flow-only CIC-IDS-2017 MLP differs on some (UDP, ICMP and ACK probes), and every
// count, differing flow and would-be block is checked against its reference run here on the
// flows the pipeline handed out. Promotion hot-swaps it into the kernel, which then classifies
// with it.
import { describe, expect, test } from "bun:test";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../../client/control.ts";
import { Agent } from "../../../core/agent/agent.ts";
import { SHIPPED_MLP } from "../../../core/config/config.ts";
import { checkConfig } from "../../../core/config/load.ts";
import { BlockJudge } from "../../../models/evaluation/block-policy.ts";
import { loadArtifact, predictUserSpace } from "../../../models/index.ts";
import { Verdict, type Classification, type FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { ShadowSummary } from "../../../proto/gen/xids/control/v1/control.ts";
import { twoHosts } from "../../../test/harness/netns.ts";
import { BUN, Proc, REPO, TempDir, quietLog, waitFor, xids } from "../../../test/core/util.ts";
import { catalogOf } from "../../../core/host/catalog.ts";
import { xdpExtractor } from "../../extractors/xdp/index.ts";
import { xdpDrop } from "../../responders/xdp-drop/index.ts";
import { featureMatrix } from "../artifact/index.ts";
import { modelsArtifactLoader } from "../artifact/loader.ts";
import { kernelModel } from "../kernel/index.ts";
import { shadowEvaluator } from "./index.ts";

/** The flow-only int32 MLP trained on CIC-IDS-2017: it reads none of the source context. */
const CIC = join(REPO, "models/artifacts/mlp-int32");
const SCANNER1 = "198.18.0.66";
const SCANNER2 = "198.18.0.77";
const MIXED = "198.18.0.50";

/** The message a call fails with. (expect(promise).rejects stalls the in-process server here.) */
const failure = (p: Promise<unknown>) => p.then(() => "it succeeded", (err: Error) => err.message);

/** What a summary's counts must add up to: every verdict the pipeline handed out is in one bin. */
function binsOf(s: ShadowSummary) {
  return { seen: s.flowsSeen, sum: s.bothAttack + s.bothBenign + s.onlyActive + s.onlyCandidate + s.failed + s.skipped + s.pending };
}

/** The candidate's reference verdicts on the records, and the block policy replayed on both
 *  sides with the shadow's clock (the latest flow end seen so far). */
async function expected(dir: string, seen: { r: FlowRecord; c: Classification }[], policy: { minAttacks: number; minAttackPct: number; windowUs: number }) {
  const model = loadArtifact(dir);
  const out = await predictUserSpace(model, featureMatrix(seen.map((s) => s.r), model.features), seen.length);
  const bins = { bothAttack: 0, bothBenign: 0, onlyActive: 0, onlyCandidate: 0 };
  const judges = { active: new BlockJudge(policy), candidate: new BlockJudge(policy) };
  const blocked = { active: new Set<string>(), candidate: new Set<string>() };
  let clock = 0;
  seen.forEach(({ r, c }, i) => {
    const a = c.verdict === Verdict.VERDICT_ATTACK, k = out.pred[i] === 1;
    if (a && k) bins.bothAttack++;
    else if (!a && !k) bins.bothBenign++;
    else if (a) bins.onlyActive++;
    else bins.onlyCandidate++;
    clock = Math.max(clock, r.lastUs);
    for (const [side, attack] of [["active", a], ["candidate", k]] as const) {
      if (!blocked[side].has(r.srcAddr) && judges[side].judge({ source: r.srcAddr, endUs: clock, attack })) blocked[side].add(r.srcAddr);
    }
  });
  return { bins, blocked, pred: out.pred, score: out.score };
}

/** What plugins/index.ts hands the agent, for the plugins this test runs (importing the catalog
 *  from here would make a cycle between plugin folders). */
const catalog = catalogOf({ xdp: xdpExtractor, kernel: kernelModel, "xdp-drop": xdpDrop });

describe("shadow models", () => {
  test("shadow beside the in-kernel MLP on live traffic: agreement, differing flows, would-be blocks; promote hot-swaps", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    for (const a of [SCANNER1, SCANNER2, MIXED]) hosts.client.execSync(["ip", "addr", "add", `${a}/24`, "dev", "eth0"]);
    const sock = dir.file("ctl.sock");
    const r = checkConfig(
      {
        dataplane: { interfaces: ["eth0"], netns: hosts.server.name, xdp_mode: "native", state_dir: dir.file("state") },
        pipeline: { models: ["kernel-mlp"], responders: ["xdp-drop"], batch_wait_ms: 2 },
        plugins: [
          { id: "xdp", kind: "extractor", builtin: "xdp" },
          { id: "kernel-mlp", kind: "model", builtin: "kernel", config: { artifact: SHIPPED_MLP } },
          { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
        ],
        control: { socket: sock },
      },
      catalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const block = r.config.pipeline.block;
    const policy = { minAttacks: block.min_attacks, minAttackPct: block.min_attack_pct, windowUs: block.window_seconds * 1e6 };
    const web = hosts.server.spawn(["timeout", "120", "python3", "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory", join(REPO, "models")]);
    const agent = await Agent.start(r.config, { catalog, artifacts: modelsArtifactLoader, shadow: shadowEvaluator, log: quietLog });
    const c = connectControl({ socket: sock });
    const env = { XIDS_CONTROL_SOCKET: sock };
    // The verdicts the pipeline hands out, as the shadow receives them.
    let seen: { r: FlowRecord; c: Classification }[] = [];
    agent.pipeline.onVerdict((rec, cl) => seen.push({ r: rec, c: cl }));

    const download = () => hosts.client.exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", `http://${hosts.serverIp}/README.md`], { allowFail: true });
    const scan = (src: string, ports: string) =>
      hosts.client.exec(["timeout", "20", "nmap", "-sS", "-Pn", "-n", "-T4", "--max-retries", "0", "--max-rate", "400", "--host-timeout", "18s", "-e", "eth0", "-S", src, "-p", ports, hosts.serverIp], { timeoutMs: 25_000, allowFail: true });
    /** Every flow has ended (idle timeout 2 s) and been through the pipeline. */
    const quiet = async () => {
      let last = -1, since = Date.now();
      await waitFor("the flows to end", async () => {
        await agent.whenIdle();
        const n = agent.counters.flowsReceived;
        if (n !== last) [last, since] = [n, Date.now()];
        return Date.now() - since > 3_000;
      }, 30_000, 100);
    };
    const traffic = async (scanner: string) => {
      for (let i = 0; i < 6; i++) expect((await download()).stdout).toBe("200");
      await hosts.client.exec(["curl", "-s", "-o", "/dev/null", "--max-time", "5", `http://${hosts.serverIp}/artifacts/xgb/model.onnx`], { allowFail: true });
      await hosts.client.exec(["ping", "-c", "5", "-i", "0.2", "-W", "1", "-I", MIXED, hosts.serverIp], { allowFail: true });
      await hosts.client.exec(["timeout", "20", "nmap", "-sU", "-Pn", "-n", "--max-retries", "0", "-e", "eth0", "-S", MIXED, "-p", "1-30", hosts.serverIp], { timeoutMs: 25_000, allowFail: true });
      await hosts.client.exec(["timeout", "20", "nmap", "-sA", "-Pn", "-n", "--max-retries", "0", "-e", "eth0", "-S", MIXED, "-p", "70-90", hosts.serverIp], { timeoutMs: 25_000, allowFail: true });
      await scan(scanner, "1-400");
      await quiet();
    };
    try {
      await waitFor("the web server", async () => (await download()).stdout === "200", 10_000, 100);
      await quiet();

      // Errors name the field; nothing runs.
      expect(await failure(c.shadowReport())).toContain("FAILED_PRECONDITION: no shadow model is running");
      expect(await failure(c.shadowStart("models/artifacts/dt"))).toContain('INVALID_ARGUMENT: artifact_path: expected an absolute path, got "models/artifacts/dt"');
      expect(await failure(c.shadowStart(dir.file("nothing")))).toContain(`INVALID_ARGUMENT: artifact_path: invalid model artifact ${dir.file("nothing")}: folder does not exist`);

      // 1. The same model as the kernel's: every compared flow agrees.
      seen = [];
      const started = await c.shadowStart(SHIPPED_MLP);
      expect([started.running, started.candidate, started.flowsSeen]).toEqual([true, "mlp-int32:matrix-mlp", 0]);
      expect(started.activeModel).toMatch(/^kernel-mlp: mlp-int32:matrix-mlp v\d+$/);
      await traffic(SCANNER1);
      expect((await c.listBlocked()).hosts.map((h) => h.address)).toContain(SCANNER1); // the kernel blocked the SYN scan
      const same = await c.shadowStop();
      console.log(`same model: ${same.flowsSeen} flows, ${same.bothAttack} both attack, ${same.bothBenign} both benign`);
      expect(same.running).toBe(false);
      expect(binsOf(same)).toEqual({ seen: seen.length, sum: seen.length });
      expect([same.onlyActive, same.onlyCandidate, same.failed, same.skipped, same.pending, same.differing.length]).toEqual([0, 0, 0, 0, 0, 0]);
      expect(same.bothAttack).toBeGreaterThan(0);
      expect(same.bothBenign).toBeGreaterThan(0);
      // Both sides block the same sources under the policy, and those are what the kernel blocked.
      const sameWant = await expected(SHIPPED_MLP, seen, policy);
      expect([same.candidateOnlyBlocksTotal, same.activeOnlyBlocksTotal, same.bothBlocked]).toEqual([0, 0, sameWant.blocked.active.size]);
      expect((await c.listBlocked()).hosts.map((h) => h.address).sort()).toEqual([...sameWant.blocked.active].sort());
      expect(await failure(c.shadowReport())).toContain("no shadow model is running");

      // 2. The CIC-IDS flow-only MLP, a model of other traffic: it differs on some flows.
      for (const h of (await c.listBlocked()).hosts) await c.unblock(h.address);
      seen = [];
      const classifiedBefore = agent.counters.flowsClassified;
      await c.shadowStart(CIC);
      await traffic(SCANNER2);
      const cic = await c.shadowReport();
      const want = await expected(CIC, seen, policy);
      console.log(`mlp-int32: ${cic.flowsSeen} flows, ${cic.onlyActive} only the active says attack, ${cic.onlyCandidate} only the candidate; blocks only active ${cic.activeOnlyBlocks.map((b) => b.address)}, only candidate ${cic.candidateOnlyBlocks.map((b) => b.address)}`);
      expect(binsOf(cic)).toEqual({ seen: seen.length, sum: seen.length });
      expect(cic.flowsSeen).toBe(agent.counters.flowsClassified - classifiedBefore);
      expect([cic.failed, cic.skipped, cic.pending]).toEqual([0, 0, 0]);
      expect({ bothAttack: cic.bothAttack, bothBenign: cic.bothBenign, onlyActive: cic.onlyActive, onlyCandidate: cic.onlyCandidate }).toEqual(want.bins);
      const differ = cic.onlyActive + cic.onlyCandidate;
      expect(differ).toBeGreaterThan(0);
      expect(cic.differing.length).toBe(Math.min(differ, cic.differingKept));
      // Each differing flow: the pipeline's verdict is the kernel's, the candidate's is the CIC MLP's
      // reference on the record's own features, and the two disagree.
      const cicModel = loadArtifact(CIC);
      for (const d of cic.differing) {
        const ref = await predictUserSpace(cicModel, featureMatrix([d.record!], cicModel.features), 1);
        expect(d.activeVerdict).toBe(d.record!.kernelVerdict);
        expect(d.activeScore).toBe(d.record!.kernelScore);
        expect([d.candidateVerdict, d.candidateScore]).toEqual([ref.pred[0] ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN, ref.score[0]!]);
        expect(d.candidateVerdict).not.toBe(d.activeVerdict);
      }
      // Would-be blocks: the policy on each side's verdicts.
      const only = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).sort();
      expect(cic.candidateOnlyBlocks.map((b) => b.address).sort()).toEqual(only(want.blocked.candidate, want.blocked.active));
      expect(cic.activeOnlyBlocks.map((b) => b.address).sort()).toEqual(only(want.blocked.active, want.blocked.candidate));
      expect(cic.bothBlocked).toBe([...want.blocked.active].filter((x) => want.blocked.candidate.has(x)).length);
      expect(want.blocked.active.has(SCANNER2)).toBe(true);
      expect(cic.activeOnlyBlocksTotal + cic.candidateOnlyBlocksTotal).toBeGreaterThan(0); // the models part ways on a source
      const text = await xids(["model", "shadow", "--report", "--flows", "3"], env);
      expect(text.code).toBe(0);
      expect(text.out).toContain(`agreement: ${((100 * (cic.bothAttack + cic.bothBenign)) / (cic.bothAttack + cic.bothBenign + differ)).toFixed(2)} %`);
      expect(text.out).toContain(`differing flows (the newest ${Math.min(3, differ)} of ${differ}):`);

      // 3. Promotion checks it is the artifact under shadow, byte for byte.
      const copy = dir.file("mlp-int32-copy");
      cpSync(CIC, copy, { recursive: true });
      await c.shadowStart(copy);
      const refused = await xids(["model", "promote", CIC], env);
      expect([refused.code, refused.err]).toEqual([1, `xids model promote: FAILED_PRECONDITION: artifact_path: ${CIC} is not the artifact under shadow (${copy})\n`]);
      writeFileSync(join(copy, "REPORT.md"), "edited after the shadow started\n");
      expect(await failure(c.shadowPromote())).toContain(`FAILED_PRECONDITION: artifact_path: the files of ${copy} changed since its shadow started; shadow it again`);
      const before = await c.status();

      // 4. Promote it: the usual checked hot update into the kernel, and the shadow ends.
      await c.shadowStart(CIC);
      const promoted = await xids(["model", "promote"], env);
      expect(promoted.code).toBe(0);
      const after = await c.status();
      expect(after.modelVersion).toBeGreaterThan(before.modelVersion);
      expect(promoted.out).toContain(`kernel-mlp now runs mlp-int32:mlp-int32 (version ${after.modelVersion})`);
      expect(await failure(c.shadowReport())).toContain("no shadow model is running");
      expect(agent.counters.modelUpdates).toBe(1);
      // The kernel now classifies with it: new flows carry its version and its verdicts.
      seen = [];
      for (let i = 0; i < 4; i++) expect((await download()).stdout).toBe("200");
      await quiet();
      expect(seen.length).toBeGreaterThan(0);
      const now = await expected(CIC, seen, policy);
      seen.forEach(({ r: rec }, i) => {
        expect(rec.modelVersion).toBe(after.modelVersion);
        expect([rec.kernelVerdict, rec.kernelScore]).toEqual([now.pred[i] ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN, now.score[i]!]);
      });
    } finally {
      c.close();
      await agent.stop();
      web.kill("SIGTERM");
      await web.exited;
    }
  }, 180_000);

  test("xids run hands the agent its shadow evaluator; the verbs' usage errors exit 2", async () => {
    using dir = new TempDir();
    const sock = dir.file("ctl.sock"), config = dir.file("x.yaml");
    writeFileSync(config, `dataplane: { state_dir: ${dir.file("state")} }\ncontrol: { socket: ${sock} }\n`);
    using core = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const env = { XIDS_CONTROL_SOCKET: sock };
    await waitFor("the core", () => core.err.includes("running:"), 20_000, 50);
    const started = await xids(["model", "shadow", CIC], env);
    expect([started.code, started.out]).toEqual([0, `shadowing mlp-int32:mlp-int32 (${CIC}) beside kernel-mlp: mlp-int32:matrix-mlp v1; see xids model shadow --report\n`]);
    const report = await xids(["model", "shadow", "--report", "--json"], env);
    expect(ShadowSummary.fromJSON(JSON.parse(report.out))).toMatchObject({ running: true, candidate: "mlp-int32:mlp-int32", flowsSeen: 0 });
    const stopped = await xids(["model", "shadow", "--stop"], env);
    expect(stopped.out).toContain("shadow ended: candidate mlp-int32:mlp-int32");
    expect(stopped.out).toContain("agreement: - (0 of 0)");
    // A candidate the model in use cannot run: PushModel refuses it, and the shadow keeps running.
    const XGB = join(REPO, "models/artifacts/xgb");
    expect((await xids(["model", "shadow", XGB], env)).code).toBe(0);
    const refused = await xids(["model", "promote"], env);
    expect([refused.code, refused.err]).toEqual([1, `xids model promote: FAILED_PRECONDITION: plugin "kernel-mlp" update: the kernel runs mlp-int32, dt or gbt artifacts, ${XGB} is xgb\n`]);
    expect(ShadowSummary.fromJSON(JSON.parse((await xids(["model", "shadow", "--report", "--json"], env)).out))).toMatchObject({ running: true, candidate: "xgb:xgb" });
    expect((await xids(["model", "shadow", "--stop"], env)).code).toBe(0);
    const none = await xids(["model", "promote"], env);
    expect([none.code, none.err]).toEqual([1, "xids model promote: FAILED_PRECONDITION: no shadow model is running (start one with xids model shadow <artifact-dir>)\n"]);
    for (const bad of [["model", "shadow"], ["model", "shadow", CIC, "--report"], ["model", "shadow", "--stop", "--flows", "2"], ["model", "promote", "a", "b"]]) {
      expect((await xids(bad, env)).code).toBe(2);
    }
    core.proc.kill("SIGTERM");
    expect(await core.exited(10_000)).toBe(0);
  }, 60_000);
});
