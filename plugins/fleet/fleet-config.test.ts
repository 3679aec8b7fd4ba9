// The `fleet:` section: it selects the fleet plugin (a responder, added to the responders), its
// problems are reported at their file:line like the rest of the config, a config without it is
// what it was, and no secret reaches the plugin's description.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { parseConfigText } from "../../core/config/load.ts";
import { formatIssue } from "../../core/config/schema.ts";
import { builtinCatalog } from "../index.ts";
import { TempDir, xids } from "../../test/core/util.ts";
import { connectOptions, describeAuth } from "./connect-options.ts";
import { defaultAgentName, type FleetConfig } from "./config.ts";

function errors(yaml: string): string[] {
  const r = parseConfigText(yaml, builtinCatalog);
  if (r.ok) throw new Error("expected the config to be rejected");
  return r.issues.map((i) => formatIssue(i, "f.yaml"));
}

describe("fleet config", () => {
  test("fleet: adds the fleet plugin, with its defaults, to the plugins and the responders", () => {
    const r = parseConfigText("fleet: { servers: [nats://10.0.0.5:4222] }\n", builtinCatalog);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const entry = r.config.plugins.at(-1)!;
    expect([entry.id, entry.kind, entry.builtin]).toEqual(["fleet", "responder", "fleet"]);
    expect(entry.config).toEqual({ servers: ["nats://10.0.0.5:4222"], agent: defaultAgentName(), prefix: "xids", heartbeat_ms: 5000, queue_size: 10000, reconnect_wait_ms: 1000 });
    expect(r.config.pipeline.responders).toEqual(["xdp-drop", "alert-log", "fleet"]);
    const listed = parseConfigText("pipeline: { responders: [xdp-drop] }\nfleet: { servers: [nats://h:4222], agent: web-1 }\n", builtinCatalog);
    expect(listed.ok && listed.config.pipeline.responders).toEqual(["xdp-drop", "fleet"]);
  });

  test("without fleet: the configuration is what it always was", () => {
    const r = parseConfigText("", builtinCatalog);
    expect(r.ok && r.config.plugins.map((p) => p.id)).toEqual(["xdp", "kernel-mlp", "xdp-drop", "alert-log"]);
    expect(r.ok && r.config.fleet).toBeUndefined();
  });

  test("problems are reported at their line", () => {
    expect(
      errors(`log: { level: info }
fleet:
  servers: []
  agent: "web 1"
  tls: { cert: /etc/c.pem }
  colour: blue
`),
    ).toEqual([
      "f.yaml:3:12: fleet.servers: expected at least 1 item(s), got 0",
      'f.yaml:4:10: fleet.agent: expected an agent name of letters, digits, \'-\' and \'_\' (at most 64), got "web 1"',
      "f.yaml:6:11: fleet.colour: unknown key (expected one of: servers, agent, prefix, creds, user, password_file, password_env, tls, heartbeat_ms, queue_size, reconnect_wait_ms)",
    ]);
    expect(errors("fleet:\n  servers: [nats://h:4222]\n  user: ops\n")).toEqual(["f.yaml:3:9: fleet.user: expected 'password_file' or 'password_env' with 'user' (a password is never written in the config)"]);
    expect(errors("fleet:\n  servers: [nats://h:4222]\n  tls: { cert: /c.pem }\n")).toEqual(["f.yaml:3:8: fleet.tls: expected both 'cert' and 'key' (a client certificate needs its key), or neither"]);
    expect(errors("fleet: { servers: [\"http://h\"] }\n")).toEqual(['f.yaml:1:20: fleet.servers[0]: expected a NATS server URL (nats://host:port or tls://host:port), got "http://h": not a NATS URL']);
  });

  test("xids config check accepts a fleet config", async () => {
    using dir = new TempDir();
    writeFileSync(dir.file("x.yaml"), "fleet: { servers: [nats://127.0.0.1:4222], agent: edge-1, prefix: lab }\n");
    const r = await xids(["config", "check", dir.file("x.yaml")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  test("secrets come from their file or the environment and are never described", () => {
    using dir = new TempDir();
    writeFileSync(dir.file("pw"), "s3cret-pass\n");
    const c = { servers: ["tls://h:4222"], user: "ops", password_file: dir.file("pw"), tls: { ca: "/ca.pem" } } as FleetConfig;
    const opts = connectOptions(c, "xids-x");
    expect([opts.user, opts.pass, opts.tls]).toEqual(["ops", "s3cret-pass", { caFile: "/ca.pem" }]);
    expect(describeAuth(c)).toBe("user ops");
    expect(() => connectOptions({ ...c, password_file: undefined, password_env: "XIDS_NO_SUCH_VAR" }, "x")).toThrow("fleet.password_env: the environment variable XIDS_NO_SUCH_VAR is not set");
    expect(() => connectOptions({ ...c, password_file: dir.file("missing") }, "x")).toThrow(`cannot read the fleet.password_file file ${dir.file("missing")}: ENOENT`);
  });
});
