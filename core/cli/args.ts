// A small, strict flag parser shared by the verbs: unknown flags are an error, not ignored.
export interface FlagSpec {
  [name: string]: "string" | "boolean" | "number";
}

export type ParsedFlags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends "boolean" ? boolean : S[K] extends "number" ? number : string;
} & { _: string[] };

export class UsageError extends Error {}

export function parseFlags<S extends FlagSpec>(args: string[], spec: S): ParsedFlags<S> {
  const out: Record<string, unknown> = { _: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      (out._ as string[]).push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === "boolean") {
      out[name] = eq === -1 ? true : arg.slice(eq + 1) !== "false";
      continue;
    }
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (kind === "number") {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got '${value}'`);
      out[name] = n;
    } else out[name] = value;
  }
  return out as ParsedFlags<S>;
}
