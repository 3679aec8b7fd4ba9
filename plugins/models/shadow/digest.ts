// What "the artifact under shadow" means at promotion: the same files, byte for byte. A folder
// whose files changed since the shadow started is a different candidate, whatever its path.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** sha256 over every file of the folder (names relative to it, sorted) and their contents. */
export function folderDigest(dir: string): string {
  const h = createHash("sha256");
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const f of files) {
    const data = readFileSync(f);
    h.update(`${relative(dir, f)}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest("hex");
}
