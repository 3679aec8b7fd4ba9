// A plugin from outside this repository, loaded by `module:` with no edit of the core: it lives
// in a folder of its own that depends on the package ("xids" in its node_modules, here a link to
// this checkout) and imports only the SDK (`from "xids"`). Its config is checked against its own
// schema at start; the detections of a real core reach it.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { servePlugin } from "../../core/bus/serve.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import type { FlowRecord } from "../../core/plugin-api/types.ts";
import { pluginInfo, serving } from "../../core/plugin-api/info.ts";
import { builtins } from "../../plugins/index.ts";
import { Classification, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { sampleRecords } from "../conformance/conformance.ts";
import { REPO, quietLog, waitFor } from "./util.ts";

const PLUGIN = `import { appendFileSync } from "node:fs";
import { AckMsg, definePlugin, pluginInfo, s, serving } from "xids";

// Appends the id and source of every detection to a file.
export default () =>
  definePlugin({
    name: "file-sink",
    kind: "responder",
    description: "appends detections to a file",
    config: s.object({ path: s.string({ min: 1, expected: "a file path" }) }),
    async init(ctx) {
      return {
        describe: async () => pluginInfo(ctx.id, "responder", "1", "file sink"),
        health: async () => serving(),
        handle: async (d) => (appendFileSync(ctx.config.path, d.id + " " + d.record?.srcAddr + "\\n"), AckMsg.create({ accepted: true })),
      };
    },
  });
`;

describe("module plugins", () => {
  test("a plugin outside the repo, importing only the SDK, loads by module: and receives detections; its config is checked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xids-module-"));
    try {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(REPO, join(dir, "node_modules", "xids"));
      writeFileSync(join(dir, "file-sink.ts"), PLUGIN);
      const attack = (r: FlowRecord) => Classification.create({ flowId: r.id, verdict: Verdict.VERDICT_ATTACK, score: 1, label: "x" });
      const model = { describe: async () => pluginInfo("all-attack", "model", "1", ""), health: async () => serving(), classify: async (rs: FlowRecord[]) => rs.map(attack) };
      const m = await servePlugin(`unix:${join(dir, "m.sock")}`, { model });
      const start = (config: object, module = "./file-sink.ts") => {
        const r = checkConfig({
          control: { socket: join(dir, "ctl.sock") },
          dataplane: { state_dir: dir },
          pipeline: { batch_wait_ms: 1 },
          plugins: [{ id: "m", kind: "model", external: { address: m.address } }, { id: "sink", kind: "responder", module, config }],
        }, builtins.catalog);
        if (!r.ok) throw new Error(JSON.stringify(r.issues));
        return Agent.start(r.config, { ...builtins, configPath: join(dir, "xids.yaml"), dataplane: new MemoryDataPlane(), log: quietLog });
      };
      try {
        const out = join(dir, "detections.txt");
        const agent = await start({ path: out });
        try {
          for (const r of sampleRecords(1)) agent.ingest(r);
          await agent.whenIdle();
          await waitFor("the detections in the file", () => (readFileSync(out, "utf8").match(/\n/g) ?? []).length === 5, 5_000);
          expect(readFileSync(out, "utf8")).toContain(sampleRecords(1)[0]!.srcAddr);
        } finally {
          await agent.stop();
        }
        const refused = await start({ path: 3 }).then(async (a) => (await a.stop(), "started"), (e: Error) => e.message);
        expect(refused).toBe('plugin "sink" failed to start: plugins.sink.config.path: expected a file path, got 3 (on_start_failure: abort)');
        const missing = await start({ path: out }, "./nope.ts").then(async (a) => (await a.stop(), "started"), (e: Error) => e.message);
        expect(missing).toMatch(/^plugin "sink" failed to start: Cannot find module .*nope\.ts/);
        writeFileSync(join(dir, "empty.ts"), "export const x = 1;\n");
        const empty = await start({ path: out }, "./empty.ts").then(async (a) => (await a.stop(), "started"), (e: Error) => e.message);
        expect(empty).toContain('module "./empty.ts" exports no plugin (a default export that is a factory from definePlugin)');
      } finally {
        await m.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
