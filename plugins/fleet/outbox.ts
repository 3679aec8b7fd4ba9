// What this agent must tell the fleet, kept until NATS has it: its own blocks (one per source, the
// latest decision wins) and its detections (in order). Both are bounded: beyond `capacity` a write
// is dropped, counted and logged. A write the server refuses for permissions is dropped too
// (retrying cannot make it allowed), counted and logged with the server's reason; any other
// failure (the connection dropped, a timeout) keeps it for the next try.
import type { Logger } from "../../core/plugin-api/types.ts";
import { throttled } from "../../core/util/log.ts";
import type { Session } from "./link.ts";
import { isPermissionError } from "./nats-errors.ts";
import type { FleetNames } from "./names.ts";
import { encodeJson, type BlockRecord } from "./records.ts";

export interface OutboxStats {
  sent: number;
  /** Dropped because the queue was full. */
  dropped: number;
  /** Refused by the server (permissions). */
  refused: number;
  /** Blocks not written because an allow covers them now, or they expired while waiting. */
  skipped: number;
  failures: number;
}

const RETRY_MS = 1_000;

export class Outbox {
  readonly stats: OutboxStats = { sent: 0, dropped: 0, refused: 0, skipped: 0, failures: 0 };
  private readonly blocks = new Map<string, BlockRecord>();
  private readonly detections: { id: string; payload: string }[] = [];
  private draining = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private readonly warn = throttled((m) => this.log.warn(m));
  private readonly refusedLog = throttled((m) => this.log.error(m));

  constructor(
    private readonly capacity: number,
    private readonly names: FleetNames,
    private readonly agent: string,
    private readonly log: Logger,
    /** The live session to write to, or null. */
    private readonly session: () => Session | null,
    /** Why a block must not be written any more (an allow covers it, it expired), or null. */
    private readonly skipBlock: (r: BlockRecord) => string | null,
  ) {}

  get queued(): number {
    return this.blocks.size + this.detections.length;
  }

  /** True while this agent's own block of `key` waits to be written. */
  hasBlock(key: string): boolean {
    return this.blocks.has(key);
  }

  putBlock(key: string, record: BlockRecord): void {
    if (!this.blocks.has(key) && this.blocks.size >= this.capacity) return this.overflow(`block of ${record.source}`);
    this.blocks.delete(key); // re-inserted at the end: written after the ones decided before it
    this.blocks.set(key, record);
    this.drain();
  }

  publishDetection(id: string, payload: object): void {
    if (this.detections.length >= this.capacity) return this.overflow(`detection ${id}`);
    this.detections.push({ id, payload: encodeJson(payload) });
    this.drain();
  }

  private overflow(what: string): void {
    this.stats.dropped++;
    this.warn("full", `fleet queue full (fleet.queue_size ${this.capacity}, NATS unreachable?): ${what} dropped (${this.stats.dropped} in total)`);
  }

  /** Writes what waits, in order, while a session is live. */
  drain(): void {
    const session = this.session();
    if (this.draining || !session) return;
    this.draining = true;
    void this.drainOn(session).finally(() => {
      this.draining = false;
      // A new session began while the old one's write was still pending: go on there.
      if (this.session() !== session && this.session()) this.drain();
    });
  }

  private async drainOn(s: Session): Promise<void> {
    while (s.live) {
      const block = this.blocks.entries().next().value;
      const detection = block ? undefined : this.detections[0];
      if (!block && !detection) return;
      try {
        if (block) {
          const [key, record] = block;
          const skip = this.skipBlock(record);
          if (skip) {
            this.stats.skipped++;
            this.log.info(`block of ${record.source} not written to the fleet: ${skip}`);
          } else {
            await s.stores.blocks.put(key, encodeJson(record));
            this.stats.sent++;
          }
          if (this.blocks.get(key) === record) this.blocks.delete(key);
        } else {
          await s.stores.js.publish(this.names.detectionSubject(this.agent), detection!.payload, { msgID: `${this.agent}:${detection!.id}` });
          this.detections.shift();
          this.stats.sent++;
        }
      } catch (err) {
        if (isPermissionError(err)) {
          this.stats.refused++;
          this.refusedLog("refused", `the NATS server refused a write (${err.message}): dropped; check this agent's NATS permissions`);
          if (block) this.blocks.delete(block[0]);
          else this.detections.shift();
          continue;
        }
        this.stats.failures++;
        this.warn("write", `fleet write failed, kept for a retry (${this.queued} waiting): ${(err as Error).message}`);
        if (this.retry === null && s.live) this.retry = setTimeout(() => ((this.retry = null), this.drain()), RETRY_MS);
        return;
      }
    }
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    if (this.queued) this.log.warn(`${this.queued} fleet write(s) not sent at shutdown (${this.blocks.size} block(s), ${this.detections.length} detection(s))`);
  }
}
