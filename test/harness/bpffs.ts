// Per-test pin directories on bpffs, removed with everything in them on dispose.
import { mkdirSync, readdirSync, rmSync, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pinLockPath } from "../../core/ebpf/kernel-dataplane.ts";
import { TEST_PREFIX } from "./netns.ts";

export const BPFFS = "/sys/fs/bpf";

export class PinDir implements Disposable {
  readonly path: string;
  static #n = 0;

  constructor(tag = "pins") {
    this.path = `${BPFFS}/${TEST_PREFIX}-${tag}-${process.pid}-${PinDir.#n++}`;
    mkdirSync(this.path, { recursive: true });
  }

  join(name: string): string {
    return `${this.path}/${name}`;
  }

  close(): void {
    // bpffs supports unlink/rmdir; removing a pin drops that reference only.
    if (existsSync(this.path)) rmSync(this.path, { recursive: true, force: true });
    // The owner locks agents took on this directory or one below it.
    const lock = pinLockPath(this.path);
    const stem = basename(lock).slice(0, -".lock".length);
    if (existsSync(dirname(lock))) for (const f of readdirSync(dirname(lock))) if (f.startsWith(stem)) rmSync(join(dirname(lock), f), { force: true });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
