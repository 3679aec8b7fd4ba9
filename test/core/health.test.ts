// Health that means something, on a real core over the real gRPC bus: a model that says
// NOT_SERVING gets no records until it serves again; a plugin process that hangs (alive, never
// answering) is killed and restarted; a plugin that failed at start under `degrade` is retried
// until it starts. Health checks run every second (the core's default).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { servePlugin } from "../../core/bus/serve.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import type { FlowRecord } from "../../core/plugin-api/types.ts";
import { notServing, pluginInfo, serving } from "../../core/plugin-api/info.ts";
import { builtins } from "../../plugins/index.ts";
import { Classification, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { sampleRecords } from "../conformance/conformance.ts";
import { BUN, REPO, TempDir, quietLog, waitFor } from "./util.ts";

const MOODY = join(REPO, "test/core/fixtures/moody-model.ts");

async function agentWith(dir: TempDir, plugins: object[]): Promise<Agent> {
  const r = checkConfig({ control: { socket: dir.file("ctl.sock") }, dataplane: { state_dir: dir.path }, plugins, pipeline: { batch_wait_ms: 1 } });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return Agent.start(r.config, { ...builtins, dataplane: new MemoryDataPlane(), log: quietLog });
}

/** The model is back in service: a batch of sample flows is classified. */
async function expectClassifies(agent: Agent): Promise<void> {
  for (const r of sampleRecords(1)) agent.ingest(r);
  await agent.whenIdle();
  expect(agent.counters.flowsClassified).toBe(5);
}

describe("plugin health", () => {
  test("a NOT_SERVING model receives no records until it serves again", async () => {
    using dir = new TempDir();
    let up = true, calls = 0;
    const model = {
      describe: async () => pluginInfo("flaky", "model", "1", ""),
      health: async () => (up ? serving() : notServing("warming up a new model")),
      classify: async (rs: FlowRecord[]) => (calls++, rs.map((r) => Classification.create({ flowId: r.id, verdict: Verdict.VERDICT_BENIGN }))),
    };
    const srv = await servePlugin(`unix:${dir.file("m.sock")}`, { model });
    const agent = await agentWith(dir, [{ id: "flaky", kind: "model", external: { address: srv.address } }]);
    try {
      for (const r of sampleRecords(1)) agent.ingest(r);
      await agent.whenIdle();
      expect([calls, agent.counters.flowsClassified]).toEqual([1, 5]);
      up = false;
      await waitFor("degraded", () => agent.host.status()[0]!.state === "degraded", 5_000);
      expect(agent.host.status()[0]!.lastError).toBe("health: warming up a new model (no records until it serves)");
      for (const r of sampleRecords(100)) agent.ingest(r);
      await agent.whenIdle();
      expect([calls, agent.counters.flowsUnclassified]).toEqual([1, 5]); // not asked: unclassified, counted
      up = true;
      await waitFor("serving again", () => agent.host.status()[0]!.state === "running", 5_000);
      for (const r of sampleRecords(200)) agent.ingest(r);
      await agent.whenIdle();
      expect([calls, agent.counters.flowsClassified]).toEqual([2, 10]);
    } finally {
      await agent.stop();
      await srv.close();
    }
  }, 30_000);

  test("a plugin process that hangs (alive, not answering) is killed and restarted", async () => {
    using dir = new TempDir();
    const sock = dir.file("moody.sock");
    const agent = await agentWith(dir, [
      { id: "moody", kind: "model", timeout_ms: 300, external: { address: `unix:${sock}`, command: [BUN, MOODY, "--listen", `unix:${sock}`], restart: { initial_backoff_ms: 100 } } },
    ]);
    try {
      const pid = async () => Number((await agent.host.api("moody", "model")!.describe()).properties.pid);
      const first = await pid();
      process.kill(first, "SIGUSR1");
      await waitFor("the hang to be noticed", () => agent.host.status()[0]!.state === "degraded", 5_000);
      await waitFor("the restart", () => agent.host.status()[0]!.restarts === 1, 10_000);
      await waitFor("serving again", () => agent.host.status()[0]!.state === "running", 10_000);
      expect(await pid()).not.toBe(first);
      let alive = true;
      try {
        process.kill(first, 0);
      } catch {
        alive = false;
      }
      expect(alive).toBe(false); // the hung process is gone, not left behind
      await expectClassifies(agent);
    } finally {
      await agent.stop();
    }
  }, 30_000);

  test("a plugin that failed at start under degrade is retried with backoff until it starts", async () => {
    using dir = new TempDir();
    const sock = dir.file("late.sock"), ready = dir.file("ready");
    const agent = await agentWith(dir, [
      { id: "late", kind: "model", on_start_failure: "degrade", external: { address: `unix:${sock}`, command: [BUN, MOODY, "--listen", `unix:${sock}`, "--fail-unless", ready], start_timeout_ms: 3_000 } },
    ]);
    try {
      expect(agent.host.status()[0]).toMatchObject({ state: "failed" });
      expect(agent.host.status()[0]!.lastError).toContain("process exited with code 7 before it was ready");
      writeFileSync(ready, "");
      await waitFor("the retried start", () => agent.host.status()[0]!.state === "running", 15_000);
      await expectClassifies(agent);
    } finally {
      await agent.stop();
    }
  }, 30_000);
});
