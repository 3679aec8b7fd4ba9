// Program: a loaded BPF program, by fd, with BPF_PROG_TEST_RUN for exact, repeatable checks.
import { native } from "./binding.ts";
import { call } from "./errors.ts";
import { FdHandle, openPinned, type OwnedFd } from "./fd.ts";

export const ProgType = { XDP: 6, SYSCALL: 31 } as const;

export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

export interface TestRunOptions {
  data: Uint8Array;
  /** Runs the program this many times in the kernel; durationNs is the mean per run. */
  repeat?: number;
  /** Context in (e.g. struct xdp_md for ingress_ifindex); returned updated as `ctx`. */
  ctx?: Uint8Array;
  /** Room for the packet on the way out (XDP may grow it with bpf_xdp_adjust_head). */
  dataOutCapacity?: number;
}

export interface TestRunResult {
  retval: number;
  data: Uint8Array;
  durationNs: number;
  ctx?: Uint8Array;
}

export class Program extends FdHandle {
  /** @internal use Collection.program() or Program.fromPin() */
  constructor(readonly name: string, readonly type: number, fd: () => number, owned: OwnedFd | null) {
    super(fd, owned);
  }

  static fromPin(path: string): Program {
    const { owned, info } = call(() => openPinned(path, "program", (fd) => native.progInfo(fd)));
    return new Program(info.name, info.type, () => owned.fd, owned);
  }

  /** Kernel id (stable across fds; what `bpftool prog` and XDP queries report). */
  get id(): number {
    return call(() => native.progInfo(this.fd)).id;
  }

  testRun(opts: TestRunOptions): TestRunResult {
    const repeat = opts.repeat ?? 1;
    if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`repeat must be a positive integer, got ${repeat}`);
    const capacity = opts.dataOutCapacity ?? opts.data.length + 256;
    return call(() => native.progTestRun(this.fd, opts.data, repeat, opts.ctx ?? null, capacity));
  }
}
