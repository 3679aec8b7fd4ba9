// A small declarative schema for the YAML configuration. Each schema checks a plain value, returns
// the typed result with defaults applied, and reports every problem at once with the path that
// failed and what was expected ("plugins[1].timeout_ms: expected an integer ≥ 1, got -5").
// Plugin factories use the same builders for their own typed `config` section.

export interface ConfigIssue {
  /** Dotted path from the document root, e.g. "plugins[1].external.address" ("" = the root). */
  path: string;
  message: string;
  /** 1-based position in the YAML file, when the loader knows it. */
  line?: number;
  col?: number;
}

export class Issues {
  readonly list: ConfigIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

export interface Schema<T> {
  readonly kind: string;
  /** Human description of what is expected, used in error messages. */
  readonly expected: string;
  /** Checks `value` at `path`; returns the typed value or undefined after adding issues. */
  check(value: unknown, path: string, issues: Issues): T | undefined;
  /** The value used when the key is absent (undefined: the key is required). */
  readonly fallback?: () => T;
  /** The same rules as a JSON Schema (draft 2020-12) fragment, for editors and other tools. */
  readonly json: JsonSchema;
}

export type JsonSchema = { [key: string]: unknown };

export type Infer<S> = S extends Schema<infer T> ? T : never;

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  return String(value);
}

function mismatch(issues: Issues, path: string, expected: string, value: unknown): undefined {
  issues.add(path, `expected ${expected}, got ${describe(value)}`);
  return undefined;
}

export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function base<T>(kind: string, expected: string, json: JsonSchema, check: Schema<T>["check"]): Schema<T> {
  return { kind, expected, json: { description: expected, ...json }, check };
}

export const s = {
  string(opts: { min?: number; pattern?: RegExp; expected?: string; check?: (v: string) => string | null } = {}): Schema<string> {
    const expected = opts.expected ?? (opts.min ? "a non-empty string" : "a string");
    const json: JsonSchema = { type: "string", ...(opts.min ? { minLength: opts.min } : {}), ...(opts.pattern ? { pattern: opts.pattern.source } : {}) };
    return base("string", expected, json, (v, path, issues) => {
      if (typeof v !== "string") return mismatch(issues, path, expected, v);
      if ((opts.min !== undefined && v.length < opts.min) || (opts.pattern && !opts.pattern.test(v))) {
        return mismatch(issues, path, expected, v);
      }
      const why = opts.check?.(v);
      if (why) {
        issues.add(path, `expected ${expected}, got ${describe(v)}: ${why}`);
        return undefined;
      }
      return v;
    });
  },
  int(opts: { min?: number; max?: number } = {}): Schema<number> {
    const range =
      opts.min !== undefined && opts.max !== undefined
        ? ` in [${opts.min}, ${opts.max}]`
        : opts.min !== undefined
          ? ` ≥ ${opts.min}`
          : opts.max !== undefined
            ? ` ≤ ${opts.max}`
            : "";
    const expected = `an integer${range}`;
    const json: JsonSchema = { type: "integer", ...(opts.min !== undefined ? { minimum: opts.min } : {}), ...(opts.max !== undefined ? { maximum: opts.max } : {}) };
    return base("int", expected, json, (v, path, issues) => {
      if (typeof v !== "number" || !Number.isInteger(v)) return mismatch(issues, path, expected, v);
      if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
        return mismatch(issues, path, expected, v);
      }
      return v;
    });
  },
  bool(): Schema<boolean> {
    return base("bool", "true or false", { type: "boolean" }, (v, path, issues) =>
      typeof v === "boolean" ? v : mismatch(issues, path, "true or false", v),
    );
  },
  enum<const V extends string>(values: readonly V[]): Schema<V> {
    const expected = `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
    return base("enum", expected, { enum: [...values] }, (v, path, issues) =>
      typeof v === "string" && (values as readonly string[]).includes(v) ? (v as V) : mismatch(issues, path, expected, v),
    );
  },
  array<T>(item: Schema<T>, opts: { min?: number; max?: number } = {}): Schema<T[]> {
    const expected = `a list of ${item.expected}`;
    const json: JsonSchema = { type: "array", items: item.json, ...(opts.min !== undefined ? { minItems: opts.min } : {}), ...(opts.max !== undefined ? { maxItems: opts.max } : {}) };
    return base("array", expected, json, (v, path, issues) => {
      if (!Array.isArray(v)) return mismatch(issues, path, expected, v);
      if (opts.min !== undefined && v.length < opts.min) {
        issues.add(path, `expected at least ${opts.min} item(s), got ${v.length}`);
        return undefined;
      }
      if (opts.max !== undefined && v.length > opts.max) {
        issues.add(path, `expected at most ${opts.max} item(s), got ${v.length}`);
        return undefined;
      }
      const before = issues.list.length;
      const out = v.map((x, i) => item.check(x, join(path, i), issues));
      return issues.list.length === before ? (out as T[]) : undefined;
    });
  },
  /** A mapping with free keys (e.g. a plugin's opaque config, headers). */
  record<T>(value: Schema<T>): Schema<Record<string, T>> {
    const expected = `a mapping of ${value.expected}`;
    return base("record", expected, { type: "object", additionalProperties: value.json }, (v, path, issues) => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return mismatch(issues, path, expected, v);
      const before = issues.list.length;
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) out[k] = value.check(x, join(path, k), issues) as T;
      return issues.list.length === before ? out : undefined;
    });
  },
  /** Anything (validated later by its owner, e.g. a plugin's config against the plugin's schema). */
  any(): Schema<unknown> {
    return base("any", "any value", {}, (v) => v);
  },
  /** A mapping with known keys; unknown keys are an error (a typo must not be silently ignored). */
  object<P extends Record<string, Schema<unknown>>>(props: P): Schema<{ [K in keyof P]: Infer<P[K]> }> {
    const expected = "a mapping";
    const required = Object.entries(props).filter(([, p]) => !p.fallback).map(([k]) => k);
    return {
      kind: "object",
      expected,
      json: {
        type: "object",
        properties: Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.json])),
        ...(required.length ? { required } : {}),
        additionalProperties: false,
      },
      fallback: Object.values(props).every((p) => p.fallback)
        ? () => Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.fallback!()])) as { [K in keyof P]: Infer<P[K]> }
        : undefined,
      check(v, path, issues) {
        if (v === null || typeof v !== "object" || Array.isArray(v)) return mismatch(issues, path, expected, v);
        const before = issues.list.length;
        const obj = v as Record<string, unknown>;
        for (const key of Object.keys(obj)) {
          if (!(key in props)) {
            issues.add(join(path, key), `unknown key (expected one of: ${Object.keys(props).join(", ")})`);
          }
        }
        const out: Record<string, unknown> = {};
        for (const [key, schema] of Object.entries(props)) {
          const present = key in obj && obj[key] !== undefined;
          if (!present) {
            if (schema.fallback) out[key] = schema.fallback();
            else issues.add(join(path, key), `required: expected ${schema.expected}`);
            continue;
          }
          out[key] = schema.check(obj[key], join(path, key), issues);
        }
        return issues.list.length === before ? (out as { [K in keyof P]: Infer<P[K]> }) : undefined;
      },
    };
  },
  /** Optional key with a default. */
  default<T>(schema: Schema<T>, value: T | (() => T)): Schema<T> {
    const fallback = typeof value === "function" ? (value as () => T) : () => structuredClone(value);
    // A computed default (a function) depends on where it runs, so the JSON Schema leaves it out.
    const json = typeof value === "function" ? schema.json : { ...schema.json, default: jsonValue(value) };
    return { ...schema, check: schema.check, fallback, json };
  },
  /** Optional key that stays undefined when absent. */
  optional<T>(schema: Schema<T>): Schema<T | undefined> {
    return { ...schema, check: schema.check, fallback: () => undefined };
  },
};

/** A default as JSON (undefined when it has no JSON form, e.g. a computed path is still a string). */
function jsonValue(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** Checks `value` against `schema`; returns the value or the full list of issues. */
export function validate<T>(schema: Schema<T>, value: unknown, path = ""): { ok: true; value: T } | { ok: false; issues: ConfigIssue[] } {
  const issues = new Issues();
  const out = schema.check(value, path, issues);
  if (issues.list.length > 0 || out === undefined) {
    if (issues.list.length === 0) issues.add(path, `expected ${schema.expected}`);
    return { ok: false, issues: issues.list };
  }
  return { ok: true, value: out };
}

export function formatIssue(issue: ConfigIssue, file?: string): string {
  const where = issue.line !== undefined ? `${file ?? ""}:${issue.line}:${issue.col ?? 1}: ` : file ? `${file}: ` : "";
  return `${where}${issue.path || "(root)"}: ${issue.message}`;
}
