// `xids explain` end to end: a real agent (XDP on a veth in a test namespace, the shipped int32 MLP
// in the kernel, the default block policy) blocks a real nmap SYN scan, and the real CLI process
// then says why: the block's reason by name, the attack verdicts in the policy window against the
// thresholds, each attack flow's top features by their contribution, the source's context and the
// method. The scores it explains are the kernel's own (the reference recomputes them bit for bit).
// The live page's API answers the same report, and a click on the page shows it.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectControl } from "../../client/control.ts";
import type { ExplainReport } from "../../models/explain/report.ts";
import { SHIPPED_MLP } from "../../core/config/config.ts";
import { twoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor, xids } from "../core/util.ts";
import { Browser } from "./cdp.ts";

/** A bounded SYN scan: timeout(1) and --host-timeout cap it. */
const nmap = (server: string) => ["timeout", "20", "nmap", "-sS", "-Pn", "-n", "-T4", "--max-retries", "1", "--max-rate", "500", "--host-timeout", "18s", "-p", "1-1500", server];

describe("xids explain", () => {
  test("a source the kernel blocked for an nmap scan: verdicts vs the policy, per-flow top features, the method", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    const sock = dir.file("ctl.sock");
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `dataplane: { interfaces: [eth0], netns: ${hosts.server.name}, state_dir: ${dir.path} }
pipeline: { models: [kernel-mlp], responders: [xdp-drop] }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-mlp, kind: model, builtin: kernel, config: { artifact: "${SHIPPED_MLP}" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
control: { socket: ${sock} }
http: { listen: "127.0.0.1:0" }
`,
    );
    using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
    const c = connectControl({ socket: sock, timeoutMs: 2_000 });
    const attacker = hosts.clientIp;
    let scan: ReturnType<typeof hosts.client.spawn> | null = null;
    try {
      await waitFor("the agent to run", async () => existsSync(sock) && (await c.status()).state === "running", 20_000, 50);
      // Nothing known about the source yet: not blocked, no flows.
      const before = await xids(["explain", attacker, "--socket", sock]);
      expect(before.code, before.err).toBe(0);
      expect(before.out).toContain(`${attacker}: not blocked`);
      expect(before.out).toContain("no flows kept for this source");

      scan = hosts.client.spawn(nmap(hosts.serverIp));
      await waitFor(`${attacker} blocked`, async () => (await c.listBlocked()).hosts.some((h) => h.address === attacker), 20_000, 100);
      scan.kill("SIGTERM"); // the rest of it would only be dropped
      await scan.exited;

      const text = await xids(["explain", attacker, "--socket", sock]);
      expect(text.code, text.err).toBe(0);
      const out = text.out;
      expect(out).toContain(`${attacker}: blocked, reason 1 = detection (pipeline.block.reason 1)`);
      expect(out).toContain("policy: block after >= 3 attack verdicts that are >= 50 % of the source's verdicts within 30 s");
      expect(out).toMatch(/verdicts in the 30 s up to the block decision: \d+ attack of \d+ \(\d+ %\): meets the policy/);
      expect(out).toContain("method: shapley-permutation: Shapley values of the int32 reference score");
      expect(out).toMatch(/ATTACK score \d+ \(kernel v1\)/);
      expect(out).toContain("flows up to the block decision (");
      expect(out).toContain("source context at its latest flow");
      expect(out).toContain("Src Flows 10s = ");
      expect(out).not.toContain("note:");
      console.log(out.split("\n").slice(0, 24).join("\n"));

      const js = await xids(["explain", attacker, "--socket", sock, "--json"]);
      expect(js.code, js.err).toBe(0);
      const rep = JSON.parse(js.out) as ExplainReport;
      expect(rep.blocked).toBe(true);
      expect(rep.block!.reason).toBe(1);
      expect(rep.model).toMatchObject({ target: "kernel-mlp", version: 1, artifact: resolve(REPO, SHIPPED_MLP) });
      expect(rep.window.attacks).toBeGreaterThanOrEqual(3);
      expect(rep.window).toMatchObject({ upTo: "block decision", meetsPolicy: true });
      // The flows the block was decided on: the last one made it, with the policy's evidence.
      const decision = rep.flows.filter((f) => f.decision);
      expect(decision.at(-1)!.action).toBe("kernel-blocked");
      expect(decision.at(-1)!.evidence).toBeGreaterThanOrEqual(3);
      expect(decision.slice(0, -1).every((f) => f.action !== "kernel-blocked")).toBe(true);
      const attacks = rep.flows.filter((f) => f.verdict === "attack");
      expect(attacks.length).toBeGreaterThanOrEqual(3);
      for (const f of attacks) {
        expect(f.src).toBe(attacker);
        expect(f.verdictBy).toBe("kernel v1");
        const e = f.explanation!;
        // The explained score is the kernel's: recomputed by the reference from the same features.
        expect(e.score).toBe(f.score);
        expect(e.score).toBeGreaterThan(0);
        expect(e.top.length).toBe(5);
        const sum = e.contributions.reduce((s, x) => s + x.contribution, 0);
        expect(Math.abs(sum - (e.score - e.baselineScore))).toBeLessThan(1e-6);
        expect(f.warnings).toEqual([]);
      }
      expect(rep.sourceContext.map((x) => x.index)).toEqual([22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);

      // Bad input is refused with what is wrong.
      const bad = await xids(["explain", "198.18.0.300", "--socket", sock]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain("address: expected an IPv4 or IPv6 host address");

      // The same report on the live page's API, and on the page itself: a click on the blocked
      // address opens the explanation (headless Chromium).
      const url = agent.err.match(/live page at (http:\/\/127\.0\.0\.1:\d+)\//)?.[1];
      expect(url, agent.err).toBeDefined();
      const api = (await (await fetch(`${url}/api/explain?address=${attacker}`)).json()) as ExplainReport;
      expect(api.blocked).toBe(true);
      expect(api.method).toBe(rep.method);
      expect(api.window).toMatchObject({ upTo: "block decision", meetsPolicy: true });
      const apiAttacks = api.flows.filter((f) => f.verdict === "attack" && f.explanation);
      expect(apiAttacks.length).toBeGreaterThanOrEqual(3);
      for (const f of apiAttacks) {
        const e = f.explanation!;
        expect(e.score).toBe(f.score);
        expect(Math.abs(e.contributions.reduce((s, x) => s + x.contribution, 0) - (e.score - e.baselineScore))).toBeLessThan(1e-6);
      }
      const refused = await fetch(`${url}/api/explain?address=198.18.0.300`);
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain("address: expected an IPv4 or IPv6 host address");
      await using browser = await Browser.launch();
      await browser.navigate(`${url}/`);
      await browser.waitFor("the blocked host's link", `!!document.querySelector('#blocked a.why[data-address="${attacker}"]')`, 5_000);
      await browser.eval(`document.querySelector('#blocked a.why[data-address="${attacker}"]').click()`);
      await browser.waitFor("the explanation", `document.getElementById("explain").dataset.state === "explained"`, 5_000);
      const panel = await browser.eval<string>(`document.getElementById("explain").textContent`);
      expect(panel).toContain("reason detection");
      expect(panel).toContain("method: shapley-permutation");
      expect(await browser.eval<number>(`document.querySelectorAll("#explain tr.contrib").length`)).toBeGreaterThanOrEqual(5);
    } finally {
      c.close();
      scan?.kill("SIGTERM");
      await scan?.exited;
      agent.proc.kill("SIGTERM");
      await agent.exited(15_000);
    }
  }, 90_000);
});
