import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../core/config/load.ts";
import { formatIssue } from "../../core/config/schema.ts";
import { builtinCatalog } from "../../plugins/index.ts";
import { SHIPPED_MLP } from "../../core/config/config.ts";

function errors(yaml: string): string[] {
  const r = parseConfigText(yaml, builtinCatalog);
  if (r.ok) throw new Error("expected the config to be rejected");
  return r.issues.map((i) => formatIssue(i, "f.yaml"));
}

describe("config", () => {
  test("an empty file gives the demo defaults", () => {
    const r = parseConfigText("", builtinCatalog);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.control.socket).toBe("/run/xids/control.sock");
    expect(r.config.pipeline.models).toEqual(["kernel-mlp"]);
    expect(r.config.pipeline.responders).toEqual(["xdp-drop", "alert-log"]);
    expect(r.config.plugins.map((p) => [p.id, p.builtin, p.on_start_failure, p.timeout_ms])).toEqual([
      ["xdp", "xdp", "abort", 2000],
      ["kernel-mlp", "kernel", "abort", 2000],
      ["xdp-drop", "xdp-drop", "abort", 2000],
      ["alert-log", "alert-log", "abort", 2000],
    ]);
    expect(r.config.plugins[1]!.config).toEqual({ artifact: SHIPPED_MLP });
    expect(r.config.dataplane.interfaces).toEqual([]);
    expect(r.config.watch.queue_size).toBe(1024);
  });

  test("errors name the line, the path and what was expected", () => {
    expect(
      errors(`dataplane:
  xdp_mode: fast
plugins:
  - id: m
    kind: model
    external: { address: "tcp://x" }
    timeout_ms: -5
    colour: red
`),
    ).toEqual([
      'f.yaml:2:13: dataplane.xdp_mode: expected one of "native", "generic", got "fast"',
      'f.yaml:6:26: plugins[0].external.address: expected a gRPC address (unix:/path or host:port), got "tcp://x": not of the form unix:/path or host:port',
      "f.yaml:7:17: plugins[0].timeout_ms: expected an integer in [1, 600000], got -5",
      "f.yaml:8:13: plugins[0].colour: unknown key (expected one of: id, kind, builtin, module, external, config, on_start_failure, timeout_ms, enabled)",
    ]);
  });

  test("cross checks: ids, references, built-ins and their typed config, TCP auth", () => {
    expect(
      errors(`plugins:
  - { id: a, kind: model, builtin: kernel }
  - { id: a, kind: responder, builtin: webhook, config: { url: "ftp://x", retries: 99 } }
  - { id: b, kind: model, builtin: nope }
  - { id: c, kind: responder }
pipeline:
  models: [a, zz]
  responders: [c]
control:
  tcp: { listen: "127.0.0.1:7000" }
`),
    ).toEqual([
      'f.yaml:3:11: plugins[1].id: duplicate plugin id "a" (first used by plugins[0])',
      'f.yaml:3:64: plugins[1].config.url: expected an http:// or https:// URL, got "ftp://x": scheme ftp: is not http or https',
      "f.yaml:3:84: plugins[1].config.retries: expected an integer in [0, 20], got 99",
      'f.yaml:4:36: plugins[2].builtin: unknown built-in plugin "nope" (expected one of: xdp, pcap, kernel, artifact, xdp-drop, webhook, alert-log, fleet)',
      "f.yaml:5:5: plugins[3]: expected exactly one of 'builtin' (a built-in plugin), 'module' (a plugin module run in process) or 'external' (a gRPC address)",
      'f.yaml:7:15: pipeline.models[1]: no plugin with id "zz" (defined: a, b, c)',
      "f.yaml:10:8: control.tcp: TCP needs authentication: expected 'token' / 'token_file' (bearer token) or 'tls.client_ca' (mTLS)",
    ]);
  });

  test("YAML syntax errors and duplicate keys carry their position", () => {
    expect(errors("a: [1, 2\n")[0]).toMatch(/^f\.yaml:\d+:\d+: \(root\): YAML syntax: /);
    expect(errors("log: {}\nlog: {}\n")[0]).toMatch(/^f\.yaml:2:1: \(root\): YAML syntax: Map keys must be unique/);
  });

  test("the example config is valid", async () => {
    const text = await Bun.file(new URL("../../core/config/xids.example.yaml", import.meta.url)).text();
    const r = parseConfigText(text, builtinCatalog);
    if (!r.ok) throw new Error(r.issues.map((i) => formatIssue(i)).join("\n"));
    expect(r.config.plugins.length).toBeGreaterThan(2);
  });
});
