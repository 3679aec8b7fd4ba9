// Where tests find build outputs and the shared data (a setting, never a copy in the repo).
// Missing shared data fails the run, naming what is missing; with XIDS_ALLOW_MISSING_SHARED=1 the
// tests that need it are skipped instead, visibly (scripts/test.sh lists every skip).
import { test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
export const FIXTURES = join(REPO_ROOT, "test", "fixtures", "build");

/** ../shared beside the repo unless XIDS_SHARED says otherwise. */
export const SHARED_DIR = resolve(process.env.XIDS_SHARED ?? join(REPO_ROOT, "..", "shared"));

export const ALLOW_MISSING_SHARED = process.env.XIDS_ALLOW_MISSING_SHARED === "1";

/**
 * The shared path, or null when it is absent. Absent and not allowed: a failing test named after
 * `forWhat` is registered, so the run fails with the path in its message; the caller skips the
 * tests that need the data with `test.skipIf(path === null)`.
 */
export function sharedPath(rel: string, forWhat: string): string | null {
  const p = join(SHARED_DIR, rel);
  if (existsSync(p)) return p;
  const why = `${forWhat} needs ${p}, which is missing`;
  if (ALLOW_MISSING_SHARED) {
    console.warn(`[skip] ${why} (skipped: XIDS_ALLOW_MISSING_SHARED=1)`);
    return null;
  }
  test(`shared data: ${forWhat}`, () => {
    throw new Error(`${why}: put the shared folder beside the repo or set XIDS_SHARED (XIDS_ALLOW_MISSING_SHARED=1 skips these tests instead)`);
  });
  return null;
}
