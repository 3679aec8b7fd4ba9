// The model version counter that outlives the agent. Every version the kernel model hands out is
// written down before the model goes into a slot, so a restart (SIGKILL or clean stop, reboot
// too) continues above every version an earlier run used, and no two models ever carry the same
// version in flow records, status or the alert log. The classifier's maps are not pinned (and
// bpffs holds only BPF objects), so the counter is a small JSON file in dataplane.state_dir:
//   <state_dir>/model-version-<plugin id>.json   {"version": 4, "model": "dt:dt", "time": "..."}
// One counter per plugin id for every agent using that state directory (a short lock makes the
// read-increment-write safe when two agents share it). A state that cannot be read or written is
// an error with the path and the reason, never a silent start from 1.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FileLock, LockedError } from "../../../native/index.ts";
import type { Logger } from "../../../core/util/log.ts";

/** struct xids_model_meta.version is a u32. */
export const MAX_MODEL_VERSION = 0xffffffff;

export class ModelVersionStateError extends Error {
  override name = "ModelVersionStateError";
}

/** Where the counter of one kernel model plugin lives. */
export function modelVersionStatePath(stateDir: string, pluginId: string): string {
  return join(stateDir, `model-version-${pluginId}.json`);
}

export class ModelVersionState {
  readonly path: string;
  readonly #lockPath: string;

  constructor(
    readonly stateDir: string,
    pluginId: string,
    private readonly log: Logger,
    /** How long reserve() waits for another agent's lock on the same counter. */
    private readonly lockWaitMs = 1_000,
  ) {
    this.path = modelVersionStatePath(stateDir, pluginId);
    this.#lockPath = `${this.path}.lock`;
  }

  /** The highest version handed out so far (0: none, no state file yet). Throws if unreadable. */
  last(): number {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw this.#fail(`cannot read the model version state ${this.path}: ${(err as Error).message}`);
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { version?: unknown } | null)?.version;
    } catch (err) {
      throw this.#fail(`model version state ${this.path} is not JSON (${(err as Error).message})`);
    }
    if (typeof version !== "number" || !Number.isInteger(version) || version < 0 || version > MAX_MODEL_VERSION) {
      throw this.#fail(`model version state ${this.path} holds no version (expected {"version": 0..${MAX_MODEL_VERSION}, ...}, got ${JSON.stringify(text.slice(0, 80))})`);
    }
    return version;
  }

  /**
   * Reserves the next version: above the state file's and above `floor` (what this run or the
   * kernel already used), and written down (fsynced) before it is returned. Throws with the path
   * and the reason when it cannot be; the caller must then not use any version.
   */
  async reserve(model: string, floor = 0): Promise<number> {
    try {
      mkdirSync(this.stateDir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw this.#fail(`cannot create the model version state directory ${this.stateDir}: ${(err as Error).message}`);
    }
    const lock = await this.#lock();
    try {
      const version = Math.max(this.last(), floor) + 1;
      if (version > MAX_MODEL_VERSION) throw this.#fail(`model version state ${this.path}: versions are exhausted (the kernel keeps a u32)`);
      this.#write({ version, model, time: new Date().toISOString() });
      return version;
    } finally {
      lock.release();
    }
  }

  async #lock(): Promise<FileLock> {
    const deadline = performance.now() + this.lockWaitMs;
    for (;;) {
      try {
        return FileLock.acquire(this.#lockPath, `pid ${process.pid}, ${new Date().toISOString()}`);
      } catch (err) {
        if (!(err instanceof LockedError)) throw this.#fail(`cannot lock the model version state ${this.#lockPath}: ${(err as Error).message}`);
        if (performance.now() > deadline) throw this.#fail(`model version state ${this.path} stayed locked for ${this.lockWaitMs} ms${err.holder ? ` (${err.holder})` : ""}`);
      }
      await Bun.sleep(5);
    }
  }

  /** Write-new-then-rename: a crash leaves the old state or the new one, never half of one. */
  #write(state: { version: number; model: string; time: string }): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, "w", 0o644);
      try {
        writeSync(fd, JSON.stringify(state) + "\n");
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      const dir = openSync(this.stateDir, "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      try {
        rmSync(tmp, { force: true });
      } catch {}
      throw this.#fail(`cannot record model version ${state.version} in ${this.path}: ${(err as Error).message}`);
    }
  }

  #fail(message: string): ModelVersionStateError {
    this.log.error(message);
    return new ModelVersionStateError(message);
  }
}
