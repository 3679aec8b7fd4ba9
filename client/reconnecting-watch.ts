// A Watch stream that outlives agent restarts. A dropped stream is reopened on a fresh connection
// with capped, jittered exponential backoff, and what the client could not see is never silent:
// the time without a connection is a gap (its start, end and duration), and the server's
// LostEvents (a client too slow for the stream) are summed over every connection.
import { status, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import type { WatchEvent } from "../proto/gen/xids/control/v1/control.ts";
import { rpcMessage, type Control } from "./control.ts";

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const WATCH_BACKOFF: Backoff = { initialMs: 200, maxMs: 5_000 };

/** Delay before retry `attempt` (1-based): doubling from initialMs, +-20 % jitter so clients of one agent spread out, never above maxMs. */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** (attempt - 1));
  return Math.round(Math.min(b.maxMs, base * (0.8 + 0.4 * random())));
}

/** A time the client had no stream: events published in it were not seen. */
export interface WatchGap {
  fromMs: number;
  toMs: number;
}

export interface WatchListener {
  /** Every message, LostEvents included (`summary.lost` already counts it). */
  event(ev: WatchEvent): void;
  dropped(reason: string): void;
  retrying(attempt: number, delayMs: number): void;
  retryFailed(attempt: number, reason: string): void;
  back(gap: WatchGap): void;
  /** Watching cannot go on (never connected, refused, or reconnecting is off). */
  failed(reason: string, neverConnected: boolean): void;
}

// Answers that another attempt would only repeat: the agent refuses this client or its request.
const FINAL = new Set([status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.INVALID_ARGUMENT, status.UNIMPLEMENTED, status.RESOURCE_EXHAUSTED]);

export interface WatchSummary {
  events: number;
  lost: number;
  gaps: WatchGap[];
  /** Set when watching stopped while disconnected: that time was not seen either. */
  openGapFromMs: number | null;
}

export class ReconnectingWatch {
  private control: Control | null = null;
  private stream: ClientReadableStream<WatchEvent> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private everConnected = false;
  private downSince: number | null = null;
  private attempt = 0;
  private finish: (code: number) => void = () => {};
  readonly summary: WatchSummary = { events: 0, lost: 0, gaps: [], openGapFromMs: null };

  constructor(
    private readonly o: {
      connect: () => Control;
      request: { detections: boolean; flows: boolean };
      reconnect: boolean;
      on: WatchListener;
      backoff?: Backoff;
    },
  ) {}

  /** Resolves with the exit code: 0 after stop(), 1 when watching could not go on. */
  run(): Promise<number> {
    return new Promise<number>((resolve) => {
      this.finish = (code) => {
        if (this.downSince !== null) this.summary.openGapFromMs = this.downSince;
        resolve(code);
      };
      this.open();
    });
  }

  /** Ctrl-C or --count reached: ends the stream or the wait for the next attempt. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.stream) this.stream.cancel();
    else this.finish(0);
  }

  private open(): void {
    this.timer = null;
    let c: Control;
    try {
      c = this.o.connect(); // reads the TLS files again: they may have gone since
    } catch (err) {
      return this.fail((err as Error).message);
    }
    this.control = c;
    let connected = false;
    const markConnected = () => {
      if (connected || this.control !== c) return;
      connected = true;
      this.everConnected = true;
      this.attempt = 0;
      if (this.downSince !== null) {
        const gap = { fromMs: this.downSince, toMs: Date.now() };
        this.downSince = null;
        this.summary.gaps.push(gap);
        this.o.on.back(gap);
      }
    };
    this.stream = c.watch(
      this.o.request,
      (ev) => {
        markConnected();
        if (ev.event?.$case === "lost") {
          this.summary.lost += ev.event.value.count;
        } else this.summary.events++;
        this.o.on.event(ev);
      },
      (err) => this.ended(c, err, connected),
      markConnected,
    );
  }

  // grpc-js may report one stream's end twice ('error', then 'end'): only the first counts.
  private ended(c: Control, err: ServiceError | null, wasConnected: boolean): void {
    if (this.control !== c) return;
    this.control = null;
    c.close();
    this.stream = null;
    if (this.stopped) return this.finish(0);
    const reason = err ? rpcMessage(err).replace(/\.? Resolution note: *$/, "") : "the agent ended the stream";
    if (err && FINAL.has(err.code)) return this.fail(reason);
    if (!this.everConnected) return this.fail(reason);
    if (wasConnected) {
      if (!this.o.reconnect) return this.fail(`connection dropped: ${reason}`);
      this.downSince = Date.now();
      this.o.on.dropped(reason);
    } else this.o.on.retryFailed(this.attempt, reason);
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.o.backoff ?? WATCH_BACKOFF);
    this.o.on.retrying(this.attempt, delay);
    this.timer = setTimeout(() => this.open(), delay);
  }

  private fail(reason: string): void {
    this.o.on.failed(reason, !this.everConnected);
    this.finish(1);
  }
}
