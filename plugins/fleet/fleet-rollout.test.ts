// Model rollout and fleet status on real agents: `xids fleet push` puts an artifact in the models
// store and names it active; every agent downloads it, checks the digest and hot-swaps it into
// its in-kernel model through PushModel's checked path, and the kernel then classifies with it.
// A broken artifact is refused by every agent with the reason and never activated; a canary
// push reaches only its share; an agent that stops beating is flagged stale.
import { describe, expect, test } from "bun:test";
import { FleetHost, brokenArtifact, portTree } from "../../test/harness/fleet.ts";
import { NatsServer } from "../../test/harness/nats-server.ts";
import { TempDir, waitFor, xids } from "../../test/core/util.ts";
import { packArtifact } from "./bundle.ts";
import type { AgentRow } from "./cli/status.ts";
import { inCanary } from "./rollout.ts";

const S5 = "198.18.120.5";

describe("fleet: model rollout and status", () => {
  test("a push reaches every agent, a bad model is refused by all with the reason, a canary reaches its share, a silent agent is stale", async () => {
    await using nats = await NatsServer.start();
    using dir = new TempDir();
    const hosts = ["a", "b", "c"].map((n, i) => new FleetHost(n, i, dir, nats, [S5]));
    const [a, , c] = hosts as [FleetHost, FleetHost, FleetHost];
    const cli = (...args: string[]) => xids(["fleet", ...args, "--servers", nats.url]);
    const status = async () => JSON.parse((await cli("status", "--json")).out) as { agents: AgentRow[] };
    try {
      for (const h of hosts) h.start();
      await Promise.all(hosts.map((h) => h.ready()));

      // A tree that calls UDP to port 5000 benign (attack only above 5999).
      const lenient = portTree(dir.path, "lenient-tree", 5999);
      const push = await cli("push", lenient, "--wait", "30");
      expect(push.err).toContain("checked");
      expect(push.code).toBe(0);
      for (const n of ["a", "b", "c"]) expect(push.out).toContain(`${n}: runs it (kernel-tree`);
      for (const h of hosts) expect((await h.c.status()).modelVersion).toBe(2);
      const sha = packArtifact(lenient).sha256;
      expect((await status()).agents.map((r) => [r.agent, r.model_sha256, r.model.version])).toEqual(["a", "b", "c"].map((n) => [n, sha, 2]));
      // The kernel classifies with it: an attack flow that the first tree blocked is let through.
      await a.attack(S5);
      await Bun.sleep(1_500);
      expect(await a.blocked()).not.toContain(S5);

      // A broken artifact (pushed without the local check): refused everywhere, the old model stays.
      const broken = brokenArtifact(dir.path);
      const bad = await cli("push", broken, "--no-check", "--wait", "20");
      expect(bad.code, `${bad.out}${bad.err}`).toBe(1);
      for (const n of ["a", "b", "c"]) expect(bad.out).toMatch(new RegExp(`${n}: REFUSED: .*manifest\\.json`));
      for (const h of hosts) expect((await h.c.status()).modelVersion).toBe(2);
      const badSha = packArtifact(broken).sha256;
      for (const r of (await status()).agents) {
        expect(r.model_sha256).toBe(sha);
        expect(r.model_rejected.sha256).toBe(badSha);
        expect(r.model_rejected.reason).toContain("manifest.json");
      }
      expect((await cli("status")).out).toContain("[REFUSED]");

      // A canary: only the agents in the share take it (the share is the same for every push).
      const strict = portTree(dir.path, "strict-tree", 999);
      const canary = await cli("push", strict, "--canary", "50%", "--wait", "30");
      expect(canary.code).toBe(0);
      for (const h of hosts) expect((await h.c.status()).modelVersion).toBe(inCanary(h.name, 50) ? 3 : 2);

      // c killed: after three missed heartbeats it is stale, the others are not.
      c.proc!.proc.kill("SIGKILL");
      await waitFor("c flagged stale", async () => (await status()).agents.find((r) => r.agent === "c")?.health === "stale", 10_000, 200);
      expect((await status()).agents.filter((r) => r.health === "running").map((r) => r.agent)).toEqual(["a", "b"]);
      expect((await cli("status")).out).toMatch(/\nc +STALE/);
    } finally {
      for (const h of hosts) await h.close();
    }
  }, 120_000);
});
