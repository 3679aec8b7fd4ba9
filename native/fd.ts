// Ownership of raw file descriptors: idempotent close, and a safety net that closes an fd whose
// owner was garbage-collected without close() (tests should still close explicitly, via `using`).
import { unlinkSync } from "node:fs";
import { native } from "./binding.ts";
import { call } from "./errors.ts";

const orphanedFds = new FinalizationRegistry<number>((fd) => native.closeFd(fd));

export class OwnedFd {
  #fd: number;

  constructor(fd: number, readonly what: string) {
    this.#fd = fd;
    orphanedFds.register(this, fd, this);
  }

  get fd(): number {
    if (this.#fd < 0) throw new Error(`${this.what} is closed`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    orphanedFds.unregister(this);
    native.closeFd(this.#fd);
    this.#fd = -1;
  }
}

/** Opens a pinned object and describes it; the fd is closed again if describing it fails. */
export function openPinned<T>(path: string, what: string, describe: (fd: number) => T): { owned: OwnedFd; info: T } {
  const owned = new OwnedFd(native.objGet(path), `${what} ${path}`);
  try {
    return { owned, info: describe(owned.fd) };
  } catch (err) {
    owned.close();
    throw err;
  }
}

/** What maps and programs share: an fd (their own, or one their collection owns), pinning, and
 *  an idempotent close that releases only an fd the handle owns. */
export abstract class FdHandle implements Disposable {
  readonly #fd: () => number;
  readonly #owned: OwnedFd | null;

  constructor(fd: () => number, owned: OwnedFd | null) {
    this.#fd = fd;
    this.#owned = owned;
  }

  get fd(): number {
    return this.#fd();
  }

  pin(path: string): void {
    call(() => native.objPin(this.fd, path));
  }

  unpin(path: string): void {
    unlinkSync(path);
  }

  close(): void {
    this.#owned?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
