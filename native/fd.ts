// Ownership of raw file descriptors: idempotent close, and a safety net that closes an fd whose
// owner was garbage-collected without close() (tests should still close explicitly, via `using`).
import { native } from "./binding.ts";

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
