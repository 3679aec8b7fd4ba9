import { describe, expect, test } from "bun:test";
import type { Command } from "../../core/cli/command.ts";
import { CORE_VERBS } from "../../core/cli/commands/index.ts";
import { CLIENT_VERBS } from "../../client/commands/index.ts";
import { TempDir, xids } from "./util.ts";

const MINE = ["run", "status", "stats", "watch", "block", "unblock", "list", "allow", "disallow", "model push", "reload", "model shadow", "model promote", "config check", "plugins"];

describe("cli", () => {
  test("every core and client verb is registered with a summary and a --help that starts with its usage", async () => {
    const names = new Map<string, Command>();
    for (const [name, load] of Object.entries({ ...CORE_VERBS, ...CLIENT_VERBS })) {
      const { command } = await load();
      expect(command.name).toBe(name);
      names.set(name, command);
    }
    for (const verb of MINE) {
      const cmd = names.get(verb);
      expect(cmd, verb).toBeDefined();
      expect(cmd!.summary.length).toBeGreaterThan(10);
      expect(cmd!.help.startsWith(`usage: xids ${verb}`)).toBe(true);
    }
  });

  test("xids <verb> --help through the dispatcher; no core needed", async () => {
    const r = await xids(["model", "push", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith("usage: xids model push <artifact-dir>")).toBe(true);
    const top = await xids(["--help"]);
    for (const verb of MINE) expect(top.out).toContain(`  ${verb} `);
  });

  test("a verb without a running core says where it looked", async () => {
    using dir = new TempDir();
    const r = await xids(["status", "--socket", dir.file("none.sock"), "--timeout", "500"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^xids status: (UNAVAILABLE|DEADLINE_EXCEEDED): .*\(is xids running\? tried unix:.*none\.sock\)\n$/);
  });

  test("usage errors exit 2", async () => {
    expect((await xids(["block"])).code).toBe(2);
    expect((await xids(["block", "1.2.3.4", "--bogus"])).err).toContain("unknown option --bogus");
    // Numbers the request cannot carry are refused before anything is sent.
    for (const [ttl, msg] of [["99999999999", "99999999999"], ["-5", "-5"], ["1.5", "1.5"]] as const) {
      const r = await xids(["block", "198.18.0.1", `--ttl=${ttl}`, "--socket", "/nonexistent/x.sock"]);
      expect([r.code, r.err]).toEqual([2, `xids block: --ttl: expected whole seconds in [0, 31536000] (one year; 0 = permanent), got ${msg}\n`]);
    }
    expect((await xids(["block", "198.18.0.1", "--ttl", "-5"])).err).toContain("--ttl: a value starting with '-' is written --ttl=<value>");
  });
});

describe("xids run", () => {
  test("a plugin failing at start with on_start_failure: abort stops start-up with its id and reason", async () => {
    using dir = new TempDir();
    const config = dir.file("x.yaml");
    await Bun.write(
      config,
      `control: { socket: ${dir.file("ctl.sock")} }
plugins:
  - { id: kernel-mlp, kind: model, builtin: kernel, config: { artifact: "" } }
  - id: broken
    kind: model
    external: { address: "unix:${dir.file("b.sock")}", command: ["${process.execPath}", "-e", "process.exit(7)"] }
`,
    );
    const r = await xids(["run", "--config", config]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('plugin "broken" failed to start: process exited with code 7 before it was ready (on_start_failure: abort)');
    expect(r.err).toMatch(/\[xids\/kernel-mlp\] stopped/);
    expect(await Bun.file(dir.file("ctl.sock")).exists()).toBe(false);
  });

  test("a start-up step that fails (http.listen on a port in use) exits non-zero within 2 s, naming the step", async () => {
    using dir = new TempDir();
    using busy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    const listen = `127.0.0.1:${busy.port}`;
    const config = dir.file("x.yaml");
    await Bun.write(config, `control: { socket: ${dir.file("ctl.sock")} }\nhttp: { listen: "${listen}" }\ndataplane: { state_dir: ${dir.path} }\n`);
    const r = await xids(["run", "--config", config]);
    const exitedAt = Date.now();
    expect(r.code).toBe(1);
    const line = r.err.split("\n").find((l) => l.includes(`start-up failed: http.listen ${listen}: `));
    expect(line).toBeDefined();
    // From the logged failure to the exit (a hang here used to last until killed).
    expect(exitedAt - Date.parse(line!.split(" ")[0]!)).toBeLessThan(2_000);
    expect(await Bun.file(dir.file("ctl.sock")).exists()).toBe(false);
  });
});
