// RingBuffer: drains a BPF_MAP_TYPE_RINGBUF map from the JS thread.
// The BPF side counts records it could not reserve; pass that counter in as `lost` so consumers
// see losses next to the records (they are never silent).
import { native, type RawRingBuf } from "./binding.ts";
import { call } from "./errors.ts";
import type { BpfMap } from "./map.ts";
import { MapType } from "./map.ts";

export interface RingBufferOptions {
  /** Reads the number of records the producer failed to submit so far. */
  lost?: () => bigint;
}

export class RingBuffer implements Disposable {
  #rb: RawRingBuf | null;
  readonly #lost: (() => bigint) | undefined;

  constructor(map: BpfMap, opts: RingBufferOptions = {}) {
    if (map.type !== MapType.RINGBUF) throw new TypeError(`map ${map.name} is not a ring buffer`);
    this.#rb = call(() => new native.RingBuf(map.fd));
    this.#lost = opts.lost;
  }

  /** Every record available now, without blocking. */
  consume(): Uint8Array[] {
    return split(call(() => this.#open().consume()));
  }

  /** Waits up to timeoutMs for records (blocks the JS thread; for CLIs and tests). */
  poll(timeoutMs: number): Uint8Array[] {
    return split(call(() => this.#open().poll(timeoutMs)));
  }

  /** Records lost so far (0n when no counter was given). */
  get lost(): bigint {
    return this.#lost?.() ?? 0n;
  }

  close(): void {
    this.#rb?.close();
    this.#rb = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #open(): RawRingBuf {
    if (!this.#rb) throw new Error("ring buffer is closed");
    return this.#rb;
  }
}

function split({ bytes, ends }: { bytes: Uint8Array; ends: Uint32Array }): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const end of ends) {
    out.push(bytes.subarray(start, end));
    start = end;
  }
  return out;
}
