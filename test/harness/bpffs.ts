// Per-test pin directories on bpffs, removed with everything in them on dispose.
import { mkdirSync, rmSync, existsSync } from "node:fs";
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
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
