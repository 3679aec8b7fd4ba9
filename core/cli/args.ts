// Flag parsing for the verbs, on node:util parseArgs (strict: an unknown flag is an error, never
// ignored). The spec says which flags take a value; "number" flags are converted here so every
// verb reports a bad number the same way.
import { parseArgs } from "node:util";

export interface FlagSpec {
  [name: string]: "string" | "boolean" | "number";
}

export type ParsedFlags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends "boolean" ? boolean : S[K] extends "number" ? number : string;
} & { _: string[] };

export class UsageError extends Error {}

export function parseFlags<S extends FlagSpec>(args: string[], spec: S): ParsedFlags<S> {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, kind] of Object.entries(spec)) options[name] = { type: kind === "boolean" ? "boolean" : "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(usageMessage(err as Error & { code?: string }));
  }
  const out: Record<string, unknown> = { _: parsed.positionals };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (spec[name] !== "number") {
      out[name] = value;
      continue;
    }
    const n = Number(value);
    if (value === "" || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got '${String(value)}'`);
    out[name] = n;
  }
  return out as ParsedFlags<S>;
}

/** parseArgs' messages, shortened to the form the verbs print ("unknown option --x"). */
function usageMessage(err: Error & { code?: string }): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? "";
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${flag}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/argument missing/.test(err.message)) return `${flag} needs a value`;
      if (/ambiguous/.test(err.message)) return `${flag}: a value starting with '-' is written ${flag}=<value>`;
      if (/does not take an argument/.test(err.message)) return `${flag} takes no value`;
      return err.message;
    default:
      return err.message;
  }
}
