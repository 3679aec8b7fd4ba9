// Where the shared, read-only data lives. One setting (env XIDS_SHARED) so CI, laptops and the
// lab all point at the same tree without code changes; default is ../shared beside the repo.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..");

export function sharedDir(): string {
  return resolve(process.env.XIDS_SHARED ?? join(REPO_ROOT, "..", "shared"));
}

export function datasetDir(): string {
  return join(sharedDir(), "datasets", "cic-ids-2017-improved");
}

/** The data set directory, or null with the reason (tests return early on null). */
export function datasetOrNull(): { dir: string } | { dir: null; reason: string } {
  const dir = datasetDir();
  if (!existsSync(dir)) return { dir: null, reason: `shared data set not found at ${dir} (set XIDS_SHARED)` };
  return { dir };
}
