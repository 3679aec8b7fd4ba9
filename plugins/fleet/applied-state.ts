// Which fleet blocks this agent put in its kernel, kept in its state dir. Only needed when the
// kernel's block list outlives the agent (dataplane.pin_dir): a block deleted from the bucket
// while the agent was stopped is still in the pinned list when it starts again, and the agent
// must know it took it from the fleet to lift it (and not lift a block of its own).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../core/plugin-api/types.ts";

const SAVE_AFTER_MS = 500;

export class AppliedState {
  private readonly path: string;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    stateDir: string,
    agent: string,
    private readonly log: Logger,
    /** The keys to save, read when the save runs. */
    private readonly keys: () => Iterable<string>,
  ) {
    this.path = join(stateDir, `fleet-applied-${agent}.json`);
  }

  /** The keys saved by the last run (none when there is no file, or it is not readable). */
  load(): string[] {
    if (!existsSync(this.path)) return [];
    try {
      const v = JSON.parse(readFileSync(this.path, "utf8")) as unknown;
      if (Array.isArray(v) && v.every((k) => typeof k === "string")) return v;
      throw new Error("not a list of keys");
    } catch (err) {
      this.log.warn(`${this.path}: ignored (${(err as Error).message}): blocks the fleet lifted while this agent was stopped stay until they expire`);
      return [];
    }
  }

  /** Saves soon (changes come in bursts at a re-sync). */
  changed(): void {
    this.timer ??= setTimeout(() => this.save(), SAVE_AFTER_MS);
  }

  save(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      writeFileSync(`${this.path}.tmp`, JSON.stringify([...this.keys()]));
      renameSync(`${this.path}.tmp`, this.path);
    } catch (err) {
      this.log.error(`cannot save ${this.path}: ${(err as Error).message}`);
    }
  }
}
