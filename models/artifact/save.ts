// Writing artifacts: stable key order and one value per line for arrays of numbers keeps the
// committed files diffable and small.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function writeJson(dir: string, name: string, value: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), JSON.stringify(value, (_k, v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v), 1) + "\n");
}

export function writeText(dir: string, name: string, text: string | Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
}
