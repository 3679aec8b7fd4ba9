// Where the shared, read-only data lives. One setting (env XIDS_SHARED) so CI, laptops and the
// lab all point at the same tree without code changes; default is ../shared beside the repo.
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..");

export function sharedDir(): string {
  return resolve(process.env.XIDS_SHARED ?? join(REPO_ROOT, "..", "shared"));
}

export function datasetDir(): string {
  return join(sharedDir(), "datasets", "cic-ids-2017-improved");
}
