import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PluginHost, StartupError, type Catalog } from "../../core/host/host.ts";
import { definePlugin, type PluginRegistration } from "../../core/plugin-api/types.ts";
import { checkConfig } from "../../core/config/load.ts";
import { s } from "../../core/config/schema.ts";
import type { PluginEntry } from "../../core/config/config.ts";
import { pluginInfo, serving } from "../../core/plugin-api/info.ts";
import { Ack } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { sampleRecords } from "../conformance/conformance.ts";
import { servePlugin } from "../../core/bus/serve.ts";
import { BUN, REPO, TempDir, quietLog, testServices, waitFor } from "./util.ts";

/** A responder whose behaviour is scripted by its config; records every hook in `events`. */
function scripted(events: string[]): Catalog {
  const reg = (): PluginRegistration =>
    definePlugin({
      name: "scripted",
      kind: "responder",
      description: "test",
      config: s.object({ init: s.default(s.enum(["ok", "throw", "hang"] as const), "ok"), handle: s.default(s.enum(["ok", "throw", "hang"] as const), "ok") }),
      async init(ctx) {
        events.push(`init ${ctx.id}`);
        if (ctx.config.init === "throw") throw new Error("boom at init");
        if (ctx.config.init === "hang") await new Promise(() => {});
        return {
          describe: async () => pluginInfo(ctx.id, "responder", "1", ""),
          health: async () => serving(),
          async handle() {
            if (ctx.config.handle === "throw") throw new Error("boom at handle");
            if (ctx.config.handle === "hang") await new Promise(() => {});
            return Ack.create({ accepted: true });
          },
        };
      },
      async stop() {
        events.push("stop");
      },
    }) as unknown as PluginRegistration;
  // stop() cannot see the id: wrap so the event log names it.
  return {
    get: (name) => {
      if (name !== "scripted") return undefined;
      const r = reg();
      let id = "";
      return {
        ...r,
        init: async (ctx) => {
          id = ctx.id;
          return r.init(ctx);
        },
        stop: async (api) => {
          events.push(`stop ${id}`);
          await r.stop?.(api);
          events.pop();
        },
      } as PluginRegistration;
    },
    names: () => ["scripted"],
  };
}

function entries(plugins: unknown[]): PluginEntry[] {
  const r = checkConfig({ plugins, pipeline: { models: [], responders: [] } });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config.plugins;
}

const p = (id: string, config: object = {}, extra: object = {}) => ({ id, kind: "responder", builtin: "scripted", config, timeout_ms: 200, ...extra });

describe("plugin host", () => {
  test("starts in order, stops in reverse", async () => {
    const events: string[] = [];
    const host = new PluginHost({ entries: entries([p("a"), p("b"), p("c")]), catalog: scripted(events), services: testServices(), log: quietLog });
    await host.start();
    expect(host.status().map((x) => x.state)).toEqual(["running", "running", "running"]);
    await host.stop();
    expect(events).toEqual(["init a", "init b", "init c", "stop c", "stop b", "stop a"]);
    expect(host.status().map((x) => x.state)).toEqual(["stopped", "stopped", "stopped"]);
  });

  test("a failing init with on_start_failure: abort stops what started and names the plugin", async () => {
    const events: string[] = [];
    const host = new PluginHost({ entries: entries([p("a"), p("b", { init: "throw" }), p("c")]), catalog: scripted(events), services: testServices(), log: quietLog });
    const err = await host.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toBe('plugin "b" failed to start: boom at init (on_start_failure: abort)');
    expect(events).toEqual(["init a", "init b", "stop a"]);
  });

  test("a hanging init times out; with degrade the others run and the system reports degraded", async () => {
    const events: string[] = [];
    const host = new PluginHost({
      entries: entries([p("a"), p("b", { init: "hang" }, { on_start_failure: "degrade" }), p("c")]),
      catalog: scripted(events),
      services: testServices(),
      log: quietLog,
    });
    await host.start();
    const st = host.status();
    expect(st.map((x) => x.state)).toEqual(["running", "failed", "running"]);
    expect(st[1]!.lastError).toBe("timed out after 200 ms (init) (on_start_failure: degrade, running without it; retrying)");
    expect(host.degraded()).toBe(true);
    await expect(host.call("b", "responder", "handle", (api) => api.handle({} as never))).rejects.toThrow('plugin "b" handle: not running (failed');
    await host.stop();
    expect(events).toEqual(["init a", "init b", "init c", "stop c", "stop a"]);
  });

  test("calls are wrapped with the plugin id, the hook and the deadline; failures are isolated", async () => {
    const host = new PluginHost({
      entries: entries([p("thrower", { handle: "throw" }), p("hanger", { handle: "hang" }), p("fine")]),
      catalog: scripted([]),
      services: testServices(),
      log: quietLog,
    });
    await host.start();
    try {
      const d = {} as never;
      await expect(host.call("thrower", "responder", "handle", (a) => a.handle(d))).rejects.toThrow('plugin "thrower" handle: boom at handle');
      // The hanger never answers: the call ends because its deadline did, as the message says.
      await expect(host.call("hanger", "responder", "handle", (a) => a.handle(d))).rejects.toThrow('plugin "hanger" handle: timed out after 200 ms (handle)');
      expect((await host.call("fine", "responder", "handle", (a) => a.handle(d))).accepted).toBe(true);
      await expect(host.call("fine", "model", "classify", () => Promise.resolve(1))).rejects.toThrow('plugin "fine" classify: is a responder plugin, not a model plugin');
      const st = Object.fromEntries(host.status().map((x) => [x.id, [x.calls, x.errors]]));
      expect(st).toEqual({ thrower: [1, 1], hanger: [1, 1], fine: [1, 0] });
    } finally {
      await host.stop();
    }
  });

  /** Serves `apis` at a fresh socket, starts a host with one external entry for it, stops both;
   *  resolves to "started" or the start's error message. */
  async function startExternal(dir: TempDir, kind: "model" | "responder", apis: Parameters<typeof servePlugin>[1]): Promise<string> {
    const srv = await servePlugin(`unix:${dir.file(`${kind}-${Math.random().toString(36).slice(2)}.sock`)}`, apis);
    const host = new PluginHost({
      entries: entries([{ id: "p", kind, external: { address: srv.address, start_timeout_ms: 2_000 }, on_start_failure: "abort" }]),
      catalog: { get: () => undefined, names: () => [] },
      services: testServices(),
      log: quietLog,
    });
    try {
      return await host.start().then(() => "started", (e: Error) => e.message);
    } finally {
      await host.stop();
      await srv.close();
    }
  }

  test("an external plugin speaking another contract version is refused at start, with both versions named", async () => {
    using dir = new TempDir();
    const responder = (api: string) => ({
      describe: async () => ({ ...pluginInfo("other", "responder", "1", ""), api }),
      health: async () => serving(),
      handle: async () => Ack.create({ accepted: true }),
    });
    for (const [api, ok] of [["xids.plugin.v9", false], ["", false], ["xids.plugin.v10", false], ["xids.plugin.v1", true], ["xids.plugin.v1.3", true]] as const) {
      expect(await startExternal(dir, "responder", { responder: responder(api) })).toBe(
        ok ? "started" : `plugin "p" failed to start: Describe says contract "${api}", this core speaks xids.plugin.v1 (and its minor versions xids.plugin.v1.N) (on_start_failure: abort)`,
      );
    }
  });

  test("an external model reading a feature set the core's records do not carry is refused at start", async () => {
    using dir = new TempDir();
    for (const [featureSet, ok] of [["xids.features.v9", false], ["xids.features.v4", true], ["xids.features.v3", true], ["xids.features.v2", true], ["xids.features.v1", true], ["", true]] as const) {
      const model = { describe: async () => ({ ...pluginInfo("m", "model", "1", ""), featureSet }), health: async () => serving(), classify: async () => [] };
      expect(await startExternal(dir, "model", { model })).toBe(
        ok ? "started" : 'plugin "p" failed to start: Describe says feature set "xids.features.v9", this core\'s records carry xids.features.v1 or xids.features.v2 or xids.features.v3 or xids.features.v4 (on_start_failure: abort)',
      );
    }
  });

  test("an external plugin process that dies is reported and restarted with backoff", async () => {
    using dir = new TempDir();
    const sock = dir.file("ext.sock");
    const states: string[] = [];
    const host = new PluginHost({
      entries: entries([
        {
          id: "ext",
          kind: "model",
          external: {
            address: `unix:${sock}`,
            command: [BUN, join(REPO, "plugins/models/example-external/main.ts"), "--listen", `unix:${sock}`],
            restart: { initial_backoff_ms: 100, max_backoff_ms: 400 },
          },
          timeout_ms: 1000,
        },
      ]),
      catalog: { get: () => undefined, names: () => [] },
      services: testServices(),
      log: quietLog,
      healthIntervalMs: 100,
      onStateChange: (id, st, detail) => states.push(`${st}: ${detail}`),
    });
    await host.start();
    try {
      const classify = () => host.call("ext", "model", "classify", (a) => a.classify(sampleRecords(1)));
      expect((await classify()).length).toBe(5);
      const pid1 = Number((await host.api("ext", "model")!.describe()).properties.pid);
      process.kill(pid1, "SIGKILL");
      await waitFor("the restart to be reported", () => host.status()[0]!.state === "restarting", 5_000);
      await expect(classify()).rejects.toThrow(/plugin "ext" classify: /);
      await waitFor("the plugin to be back", async () => host.status()[0]!.state === "running" && (await classify()).length === 5, 10_000);
      const pid2 = Number((await host.api("ext", "model")!.describe()).properties.pid);
      expect(pid2).not.toBe(pid1);
      expect(host.status()[0]!.restarts).toBe(1);
      expect(states).toContain("restarting: killed by SIGKILL; restart in 100 ms");
    } finally {
      await host.stop();
    }
  });
});

describe("process supervisor", () => {
  test("restart delays double per consecutive crash up to the cap; stop ends it", async () => {
    const { ProcessSupervisor } = await import("../../core/host/supervisor.ts");
    const delays: (number | null)[] = [];
    const exits: string[] = [];
    const sup = new ProcessSupervisor({
      id: "crashy",
      argv: [BUN, "-e", "process.exit(3)"],
      restart: { initial_backoff_ms: 20, max_backoff_ms: 100, reset_after_ms: 60_000 },
      log: quietLog,
      onExit: ({ code, restartInMs }) => {
        delays.push(restartInMs);
        exits.push(`code ${code}`);
      },
    });
    sup.start();
    await waitFor("five crashes", () => delays.length >= 5, 10_000);
    await sup.stop();
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 100, 100]);
    expect(exits[0]).toBe("code 3");
    expect(sup.restarts).toBeGreaterThanOrEqual(4);
    const n = delays.length;
    await Bun.sleep(200);
    expect(delays.length).toBe(n); // no restart after stop
  });

  test("an external plugin whose process dies before it is ready fails its start with the exit status", async () => {
    using dir = new TempDir();
    const host = new PluginHost({
      entries: entries([
        {
          id: "dead",
          kind: "model",
          external: { address: `unix:${dir.file("d.sock")}`, command: [BUN, "-e", "process.exit(7)"], start_timeout_ms: 5_000 },
          on_start_failure: "degrade",
        },
      ]),
      catalog: { get: () => undefined, names: () => [] },
      services: testServices(),
      log: quietLog,
    });
    await host.start();
    try {
      expect(host.status()[0]).toMatchObject({ state: "failed", lastError: "process exited with code 7 before it was ready (on_start_failure: degrade, running without it; retrying)" });
    } finally {
      await host.stop();
    }
  });
});
