// Secrets stay out of argv and printed output: read from files (token_file, secret_file,
// --token-file), masked wherever a configuration is printed.
import { readFileSync } from "node:fs";

/** The secret in `file`, trimmed; a missing, unreadable or empty file is an error naming both. */
export function readSecretFile(file: string, setting: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new Error(`${setting}: cannot read the secret file ${file}: ${(err as Error).message}`);
  }
  if (text === "") throw new Error(`${setting}: the secret file ${file} is empty`);
  return text;
}

/** A copy of `v` with every secret-named key's value (token, secret, password, key, ...) as "***"; *_file paths stay. */
export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v === null || typeof v !== "object") return v;
  const secret = (k: string) => /(^|[_-])(token|secret|password|passwd|key|authorization|credentials?)$/i.test(k);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secret(k) && typeof x !== "object" ? "***" : maskSecrets(x)]));
}
