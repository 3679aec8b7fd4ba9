// The typed face of the native libbpf addon. Import from here, never from binding.ts.
import { native } from "./binding.ts";
import { call } from "./errors.ts";

export { Collection, type CollectionOptions, type GlobalValue } from "./collection.ts";
export { BpfMap, TypedMap, MapType, type UpdateFlag } from "./map.ts";
export { Program, ProgType, XdpAction, type TestRunOptions, type TestRunResult } from "./program.ts";
export { RingBuffer, type RingBufferOptions } from "./ringbuf.ts";
export { XdpLink, xdpQuery, type XdpMode, type XdpAttachOptions } from "./xdp-link.ts";
export { FileLock, LockedError } from "./file-lock.ts";
export { BpfError, VerifierError, NotSupportedError } from "./errors.ts";
export { defineStruct, u32Key, type StructCodec, type StructValue } from "./struct.ts";

/** CLOCK_MONOTONIC in ns: the clock bpf_ktime_get_ns() reads. */
export function monotonicNs(): bigint {
  return native.monotonicNs();
}

export function numPossibleCpus(): number {
  return native.numPossibleCpus();
}

/** Index of a network interface, in a namespace (path) or our own. */
export function ifNameToIndex(name: string, netns?: string): number {
  return call(() => native.ifNameToIndex(name, netns ?? null));
}
