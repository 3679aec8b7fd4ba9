// XdpLink: an XDP attachment made through a BPF link. The link detaches when its last fd closes
// (or when unpinned and closed), so a crashed agent leaves nothing attached unless it pinned it.
import { unlinkSync } from "node:fs";
import { native } from "./binding.ts";
import { call, NotSupportedError, BpfError } from "./errors.ts";
import { OwnedFd } from "./fd.ts";
import type { Program } from "./program.ts";

export type XdpMode = "native" | "generic";

export interface XdpAttachOptions {
  ifname?: string;
  ifindex?: number;
  /** Network namespace of the interface, e.g. /var/run/netns/NAME (default: our own). */
  netns?: string;
  mode: XdpMode;
  /** Fall back from native to generic mode when the driver lacks native XDP. Off by default. */
  allowFallback?: boolean;
}

export class XdpLink implements Disposable {
  #fd: OwnedFd;
  #pinnedAt: string | null = null;

  private constructor(fd: number, readonly ifindex: number, readonly mode: XdpMode | "unknown", readonly netns: string | null) {
    this.#fd = new OwnedFd(fd, `xdp link on ifindex ${ifindex}`);
  }

  static attach(prog: Program, opts: XdpAttachOptions): XdpLink {
    const netns = opts.netns ?? null;
    const ifindex = opts.ifindex ?? (opts.ifname ? call(() => native.ifNameToIndex(opts.ifname!, netns)) : undefined);
    if (ifindex === undefined) throw new TypeError("XdpLink.attach needs ifname or ifindex");
    let mode = opts.mode;
    let fd: number;
    try {
      fd = call(() => native.xdpLinkCreate(prog.fd, ifindex, mode, netns));
    } catch (err) {
      const driverLacksNative = err instanceof NotSupportedError || (err instanceof BpfError && err.errno === 95);
      // ERANGE: the interface's MTU is above what the driver's XDP takes for this program (a
      // non-frags program above one page, or a driver without multi-buffer XDP).
      if (err instanceof BpfError && err.errno === 34) {
        throw new BpfError(`${err.message}: the MTU of ifindex ${ifindex} is too large for native XDP here (the driver has no multi-buffer XDP for it, or the program is not xdp.frags); lower the MTU or use generic mode`, err.op, 34);
      }
      if (!(mode === "native" && opts.allowFallback && driverLacksNative)) throw err;
      mode = "generic";
      fd = call(() => native.xdpLinkCreate(prog.fd, ifindex, mode, netns));
    }
    // Report the mode the kernel actually uses, not the one we asked for.
    const q = native.xdpQuery(ifindex, netns);
    const actual = q.mode === "native" || q.mode === "generic" ? q.mode : mode;
    return new XdpLink(fd, ifindex, actual, netns);
  }

  /** Re-adopts a link pinned by an earlier process. With `netns` (the interface's namespace,
   *  as given to attach) the mode in use is read back from the kernel. */
  static fromPin(path: string, opts: { netns?: string } = {}): XdpLink {
    const fd = call(() => native.objGet(path));
    let ifindex = 0;
    let mode: XdpMode | "unknown" = "unknown";
    try {
      ifindex = call(() => native.linkInfo(fd)).ifindex ?? 0;
      if (opts.netns !== undefined && ifindex) {
        const q = native.xdpQuery(ifindex, opts.netns);
        if (q.mode === "native" || q.mode === "generic") mode = q.mode;
      }
    } catch (err) {
      native.closeFd(fd);
      throw err;
    }
    const link = new XdpLink(fd, ifindex, mode, opts.netns ?? null);
    link.#pinnedAt = path;
    return link;
  }

  /** Atomically replaces the program this link runs: the interface is never left without one. */
  update(prog: Program): void {
    call(() => native.linkUpdate(this.fd, prog.fd));
  }

  get pinnedAt(): string | null {
    return this.#pinnedAt;
  }

  get fd(): number {
    return this.#fd.fd;
  }

  get closed(): boolean {
    return this.#fd.closed;
  }

  /** Id of the program this link runs. */
  get progId(): number {
    return call(() => native.linkInfo(this.fd)).progId;
  }

  pin(path: string): void {
    call(() => native.objPin(this.fd, path));
    this.#pinnedAt = path;
  }

  unpin(): void {
    if (this.#pinnedAt) unlinkSync(this.#pinnedAt);
    this.#pinnedAt = null;
  }

  /** Detaches now, even if the link is pinned. */
  detach(): void {
    if (!this.closed) call(() => native.linkDetach(this.fd));
  }

  /** Drops our reference; the program stays attached only if the link is pinned. Safe twice. */
  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** What is attached to an interface right now (for status and leak checks). */
export function xdpQuery(opts: { ifname?: string; ifindex?: number; netns?: string }) {
  const netns = opts.netns ?? null;
  const ifindex = opts.ifindex ?? call(() => native.ifNameToIndex(opts.ifname!, netns));
  return call(() => native.xdpQuery(ifindex, netns));
}
