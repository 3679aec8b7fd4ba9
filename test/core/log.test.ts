// The logger's two line formats: text for a terminal, JSON (one object per line) for journald and
// log shippers. Both filter by level and carry the component (scope) of child loggers. A real
// `xids run` process writes the format log.format names, and --log-format overrides it.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../core/util/log.ts";
import { BUN, Proc, REPO, TempDir, waitFor, xids } from "./util.ts";

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("createLogger", () => {
  test("json: one parseable object per line with time, level, component and msg; children name their component", () => {
    const lines: string[] = [];
    const log = createLogger("xids", "info", (l) => lines.push(l), "json");
    log.debug("below the level: dropped");
    log.info('started "quoted"\nsecond line');
    log.child("pipeline").child("batch").error("queue full");
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).not.toContain("\n"); // a message's newline stays inside its JSON string
    const [a, b] = lines.map((l) => JSON.parse(l));
    expect(Object.keys(a)).toEqual(["time", "level", "component", "msg"]);
    expect(a.time).toMatch(ISO_TIME);
    expect(Math.abs(Date.parse(a.time) - Date.now())).toBeLessThan(5_000);
    expect(a).toMatchObject({ level: "info", component: "xids", msg: 'started "quoted"\nsecond line' });
    expect(b).toMatchObject({ level: "error", component: "xids/pipeline/batch", msg: "queue full" });
  });

  test("text (the default): '<time> <level> [<component>] msg', not JSON", () => {
    const lines: string[] = [];
    const log = createLogger("xids", "warn", (l) => lines.push(l));
    log.info("dropped");
    log.child("http").warn("slow");
    expect(lines).toHaveLength(1);
    const m = lines[0]!.match(/^(\S+) warn  \[xids\/http\] slow$/);
    expect(m?.[1]).toMatch(ISO_TIME);
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});

/** Starts `xids run`, waits for its "running" line, stops it with SIGTERM; its stderr lines. */
async function runUntilRunning(config: string, flags: string[] = []): Promise<string[]> {
  using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config, ...flags]);
  await waitFor("the agent's running line", () => agent.err.includes("running: models"), 20_000).catch((err) => {
    throw new Error(`${(err as Error).message}; stderr:\n${agent.err}`);
  });
  agent.proc.kill("SIGTERM");
  expect(await agent.exited(10_000)).toBe(0);
  await Bun.sleep(5); // the last chunk of stderr
  return agent.err.split("\n").filter((l) => l !== "");
}

describe("xids run: log.format and --log-format", () => {
  const configFile = (dir: TempDir, format: string) => {
    const path = dir.file("xids.yaml");
    writeFileSync(path, `control: { socket: ${dir.file("ctl.sock")} }\ndataplane: { state_dir: ${dir.path} }\nlog: { level: info, format: ${format} }\n`);
    return path;
  };

  test("log.format: json: every stderr line is one JSON object, from start to stop", async () => {
    using dir = new TempDir();
    const lines = await runUntilRunning(configFile(dir, "json"));
    const objects = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, string>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    for (const o of objects) {
      expect(Object.keys(o)).toEqual(["time", "level", "component", "msg"]);
      expect(o.time).toMatch(ISO_TIME);
      expect(["debug", "info", "warn", "error"]).toContain(o.level!);
    }
    const msgs = objects.map((o) => `${o.level} ${o.component} ${o.msg}`);
    expect(msgs[0]).toBe(`info xids starting (config ${dir.file("xids.yaml")})`);
    expect(msgs).toContain("warn xids no dataplane.interfaces configured: nothing is attached, block/allow lists are kept in memory only");
    expect(msgs.some((m) => m.startsWith("info xids/kernel-mlp "))).toBe(true); // plugins log with their component
    expect(msgs.at(-1)).toBe("info xids stopped");
  }, 60_000);

  test("--log-format text overrides log.format: json; --log-format xml is refused before anything starts", async () => {
    using dir = new TempDir();
    const config = configFile(dir, "json");
    const lines = await runUntilRunning(config, ["--log-format", "text"]);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l).toMatch(/^\S+Z (debug|info |warn |error) \[xids(\/[a-z0-9-]+)*\] /);

    const bad = await xids(["run", "--config", config, "--log-format", "xml"]);
    expect(bad).toMatchObject({ code: 2, err: "--log-format: expected text or json, got 'xml'\n" });
  }, 60_000);

  test("a config with an unknown log.format is refused with its file, line and path", async () => {
    using dir = new TempDir();
    const r = await xids(["config", "check", configFile(dir, "yaml")]);
    expect(r.code).not.toBe(0);
    expect(r.err + r.out).toMatch(/xids\.yaml:3:\d+: log\.format: expected one of "text", "json", got "yaml"/);
  });
});
