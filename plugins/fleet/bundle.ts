// A model artifact folder as one object for the models store: its files (a flat folder, as every
// artifact is) in one JSON document, and the SHA-256 that names it. The agent checks the digest
// of what it downloaded against the one the active-model key names before it unpacks anything.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

const FORMAT = "xids-model-bundle/1";
const MAX_BYTES = 256 << 20;
const SAFE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The bundle of the artifact folder `dir`. */
export function packArtifact(dir: string): { name: string; bytes: Uint8Array; sha256: string } {
  const files: Record<string, string> = {};
  let size = 0;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) throw new Error(`${path}: an artifact is a flat folder of files`);
    if (!SAFE_NAME.test(name)) throw new Error(`${path}: file names of an artifact are letters, digits, '.', '_' and '-'`);
    const data = readFileSync(path);
    size += data.length;
    if (size > MAX_BYTES) throw new Error(`${dir}: larger than ${MAX_BYTES >> 20} MiB`);
    files[name] = data.toString("base64");
  }
  const bytes = new TextEncoder().encode(JSON.stringify({ format: FORMAT, name: basename(resolve(dir)), files }));
  return { name: basename(resolve(dir)), bytes, sha256: sha256Hex(bytes) };
}

/** Writes the bundle's files into `dir` (replacing it as a whole, so a half-written folder is never seen). */
export function unpackArtifact(bytes: Uint8Array, dir: string): void {
  let doc: { format?: unknown; files?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new Error(`not a model bundle: ${(err as Error).message}`);
  }
  if (doc.format !== FORMAT || doc.files === null || typeof doc.files !== "object") throw new Error(`not a model bundle (expected format ${FORMAT})`);
  const tmp = `${dir}.part`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, data] of Object.entries(doc.files as Record<string, unknown>)) {
    if (!SAFE_NAME.test(name) || name === "." || name === ".." || typeof data !== "string") throw new Error(`model bundle: bad entry ${JSON.stringify(name)}`);
    writeFileSync(join(tmp, name), Buffer.from(data, "base64"));
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
