// An exclusive lock on a file (flock), held for as long as the FileLock is open. The kernel drops
// it when the holder's process ends however it ends, so a lock can never outlive its owner. The
// holder's pid and start time are written into the file, for the message a second process gets.
import { readFileSync, writeFileSync } from "node:fs";
import { native } from "./binding.ts";
import { call } from "./errors.ts";
import { OwnedFd } from "./fd.ts";

export class LockedError extends Error {
  override name = "LockedError";
  constructor(
    readonly path: string,
    /** What the holder wrote into the lock file (pid, start time), if it could be read. */
    readonly holder: string,
  ) {
    super(`${path} is locked by another process${holder ? ` (${holder})` : ""}`);
  }
}

export class FileLock implements Disposable {
  private constructor(
    private readonly owned: OwnedFd,
    readonly path: string,
  ) {}

  /** Takes the lock or throws LockedError at once (never waits). */
  static acquire(path: string, holder: string): FileLock {
    const fd = call(() => native.lockFile(path));
    if (fd < 0) {
      let who = "";
      try {
        who = readFileSync(path, "utf8").trim();
      } catch {}
      throw new LockedError(path, who);
    }
    const lock = new FileLock(new OwnedFd(fd, `lock ${path}`), path);
    writeFileSync(path, holder + "\n");
    return lock;
  }

  get held(): boolean {
    return !this.owned.closed;
  }

  release(): void {
    this.owned.close();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
