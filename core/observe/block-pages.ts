// The block list in pages (GET /api/blocked, the live page, ListBlocked): a snapshot read when asked and reused
// for 5 times its read's cost, up to 5 s (100k entries take >= 0.25 s; a short list is always fresh): <= 20% of a CPU.
import type { BlockedEntry } from "../ebpf/port.ts";

export class PageError extends Error {} // a page parameter refused, naming it: 400 over HTTP, INVALID_ARGUMENT over gRPC

export const queryError = (q: string) => (/^[0-9a-fA-F.:]{0,64}$/.test(q) ? null : `expected part of an address (at most 64 of 0-9 a-f . :), got "${q}"`);

const SHORT_LIST = 10_000; // read afresh every time: a stall of one read must not make a short list stale

export class BlockPages {
  private snap = { at: 0, costMs: 0, list: [] as BlockedEntry[] };
  constructor(private readonly read: () => BlockedEntry[]) {}

  /** `limit` entries from `offset` of those whose address contains `q`, each TTL aged by the snapshot's age. */
  page(offset: number, limit: number, q: string): { total: number; matching: number; offset: number; limit: number; hosts: BlockedEntry[] } {
    if (queryError(q)) throw new PageError(`q: ${queryError(q)}`);
    if (this.snap.list.length < SHORT_LIST || Date.now() - this.snap.at >= Math.min(5_000, 5 * this.snap.costMs)) {
      const t0 = performance.now(), list = this.read();
      this.snap = { at: Date.now(), costMs: performance.now() - t0, list };
    }
    const { list, at } = this.snap, query = q.toLowerCase(), match = query ? list.filter((b) => b.address.includes(query)) : list;
    const hosts = match.slice(offset, offset + limit).map((b) => ({ ...b, expiresInMs: b.expiresInMs && Math.max(1, b.expiresInMs - (Date.now() - at)) }));
    return { total: list.length, matching: match.length, offset, limit, hosts };
  }
}
