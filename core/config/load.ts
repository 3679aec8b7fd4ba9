// Reads and checks a config file. Every problem is reported at once, each with the YAML line, the
// path and what was expected; nothing is returned (and so nothing changes) unless all is well.
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { configSchema, pluginEntrySchema, type XidsConfig } from "./config.ts";
import { type ConfigIssue, formatIssue, Issues, join, validate, type Schema } from "./schema.ts";

/** What the config checker needs to know about the built-in plugins. */
export interface BuiltinCatalog {
  get(name: string): { kind: string; description?: string; config: Schema<unknown> } | undefined;
  names(): string[];
}

export class ConfigError extends Error {
  constructor(
    readonly issues: ConfigIssue[],
    readonly file?: string,
  ) {
    super(`invalid configuration${file ? ` ${file}` : ""}:\n${issues.map((i) => "  " + formatIssue(i, file)).join("\n")}`);
  }
}

export type CheckResult = { ok: true; config: XidsConfig } | { ok: false; issues: ConfigIssue[] };

/** Checks an already-parsed value (the YAML document's JS form). */
export function checkConfig(raw: unknown, builtins?: BuiltinCatalog): CheckResult {
  const result = validate(configSchema, raw ?? {});
  if (!result.ok) return result;
  const parsed = result.value;
  // `fleet:` stands for the fleet plugin's instance (checked at its own lines), a responder.
  if (parsed.fleet !== undefined) {
    parsed.plugins.push(pluginEntrySchema.check({ id: "fleet", kind: "responder", builtin: "fleet", config: parsed.fleet }, "fleet", new Issues())!);
    parsed.pipeline.responders?.push("fleet");
  }
  const enabled = (kind: string) => parsed.plugins.filter((p) => p.enabled && p.kind === kind).map((p) => p.id);
  const config: XidsConfig = {
    ...parsed,
    pipeline: { ...parsed.pipeline, models: parsed.pipeline.models ?? enabled("model"), responders: parsed.pipeline.responders ?? enabled("responder") },
  };
  const issues = new Issues();
  crossCheck(config, issues, builtins);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, config };
}

function crossCheck(config: XidsConfig, issues: Issues, builtins?: BuiltinCatalog): void {
  const ring = config.dataplane.ring_bytes;
  if ((ring & (ring - 1)) !== 0) issues.add("dataplane.ring_bytes", `expected a power of two (the kernel's ring buffer size), got ${ring}`);
  const seen = new Map<string, number>();
  config.plugins.forEach((p, i) => {
    const at = join("plugins", i);
    const first = seen.get(p.id);
    if (first !== undefined) issues.add(join(at, "id"), `duplicate plugin id "${p.id}" (first used by plugins[${first}])`);
    else seen.set(p.id, i);
    if ([p.builtin, p.module, p.external].filter((x) => x !== undefined).length !== 1) {
      issues.add(at, "expected exactly one of 'builtin' (a built-in plugin), 'module' (a plugin module run in process) or 'external' (a gRPC address)");
    }
    if (p.builtin !== undefined && builtins) {
      const reg = builtins.get(p.builtin);
      if (!reg) {
        issues.add(join(at, "builtin"), `unknown built-in plugin "${p.builtin}" (expected one of: ${builtins.names().join(", ")})`);
      } else if (reg.kind !== p.kind) {
        issues.add(join(at, "kind"), `built-in "${p.builtin}" is a ${reg.kind} plugin, not a ${p.kind} plugin`);
      } else {
        const fromFleet = config.fleet !== undefined && i === config.plugins.length - 1; // the entry `fleet:` added
        const checked = validate(reg.config, p.config, fromFleet ? "fleet" : join(at, "config"));
        if (!checked.ok) for (const issue of checked.issues) issues.add(issue.path, issue.message);
        else p.config = checked.value;
      }
    }
  });
  const byId = new Map<string, (typeof config.plugins)[number]>();
  for (const p of config.plugins) if (!byId.has(p.id)) byId.set(p.id, p);
  const refer = (list: string[], key: string, kind: string) =>
    list.forEach((id, i) => {
      const p = byId.get(id);
      if (!p) issues.add(join(join("pipeline", key), i), `no plugin with id "${id}" (defined: ${[...byId.keys()].join(", ") || "none"})`);
      else if (p.kind !== kind) issues.add(join(join("pipeline", key), i), `plugin "${id}" is a ${p.kind} plugin, expected a ${kind} plugin`);
      else if (!p.enabled) issues.add(join(join("pipeline", key), i), `plugin "${id}" is disabled (enabled: false)`);
    });
  refer(config.pipeline.models, "models", "model");
  refer(config.pipeline.responders, "responders", "responder");
  const tcp = config.control.tcp;
  if (tcp) {
    if (tcp.token !== undefined && tcp.token_file !== undefined) issues.add("control.tcp", "expected at most one of 'token' or 'token_file'");
    const hasToken = tcp.token !== undefined || tcp.token_file !== undefined;
    const mtls = tcp.tls?.client_ca !== undefined;
    if (!hasToken && !mtls) {
      issues.add("control.tcp", "TCP needs authentication: expected 'token' / 'token_file' (bearer token) or 'tls.client_ca' (mTLS)");
    }
    if (hasToken && !tcp.tls && !/^(127\.|\[::1\]|localhost:)/.test(tcp.listen)) {
      issues.add("control.tcp.tls", "a bearer token on a non-loopback address must be protected by TLS: expected 'tls'");
    }
  }
}

/** Parses YAML text; issues carry the line and column of the offending node. */
export function parseConfigText(text: string, builtins?: BuiltinCatalog): CheckResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: "", message: `YAML syntax: ${e.message.split("\n")[0]}`, line: pos.line, col: pos.col };
      }),
    };
  }
  const result = checkConfig(doc.toJS({ maxAliasCount: 100 }), builtins);
  if (!result.ok) {
    for (const issue of result.issues) locate(issue, doc, lineCounter);
    result.issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  }
  return result;
}

function locate(issue: ConfigIssue, doc: Document, lc: LineCounter): void {
  const segments = issue.path
    .split(/\.|\[(\d+)\]/)
    .filter((x) => x !== undefined && x !== "")
    .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  // The deepest node that exists on the path (a missing key points at its parent mapping).
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      issue.line = pos.line;
      issue.col = pos.col;
      return;
    }
  }
}

/** Puts each issue at its line and column in `file` (issues found after loading, e.g. at start). */
export function locateIn(file: string, issues: ConfigIssue[]): ConfigIssue[] {
  const lc = new LineCounter();
  const doc = parseDocument(readFileSync(file, "utf8"), { lineCounter: lc });
  for (const issue of issues) locate(issue, doc, lc);
  return issues;
}

export function loadConfigFile(file: string, builtins?: BuiltinCatalog): XidsConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([{ path: "", message: `cannot read the file: ${(err as Error).message}` }], file);
  }
  const result = parseConfigText(text, builtins);
  if (!result.ok) throw new ConfigError(result.issues, file);
  return result.config;
}
