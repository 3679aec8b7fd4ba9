// Where tests find build outputs and the shared data (a setting, never a copy in the repo).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
export const FIXTURES = join(REPO_ROOT, "test", "fixtures", "build");

/** ../shared beside the repo unless XIDS_SHARED says otherwise. */
export const SHARED_DIR = resolve(process.env.XIDS_SHARED ?? join(REPO_ROOT, "..", "shared"));

/** Returns the shared path, or null after printing why the caller will not use it. */
export function sharedPath(rel: string, forWhat: string): string | null {
  const p = join(SHARED_DIR, rel);
  if (existsSync(p)) return p;
  console.warn(`[skip] ${forWhat}: ${p} is absent (set XIDS_SHARED to the shared folder)`);
  return null;
}
