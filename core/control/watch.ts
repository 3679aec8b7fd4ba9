// Watch fan-out. Every client has its own bounded queue; publishing never waits for a client.
// When a client's queue is full the event is dropped for that client only and counted; the client
// then receives a LostEvents message (how many it missed) in the exact place of the gap, so it
// always knows what it did not see. A slow client costs the core one queue of memory, no more.
import { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { LostEvents, WatchEvent } from "../../proto/gen/xids/control/v1/control.ts";

export interface WatchFilter {
  detections: boolean;
  flows: boolean;
}

type Item = { kind: "event"; seq: number; event: WatchEvent["event"] } | { kind: "lost"; count: number; lastSeq: number };

export class WatchClient {
  private readonly items: Item[] = [];
  private events = 0;
  private seq = 0;
  lostTotal = 0;
  delivered = 0;
  private closed = false;
  private waiting = false;

  constructor(
    readonly id: number,
    readonly filter: WatchFilter,
    private readonly queueSize: number,
    /** Writes one message; returns false when the transport wants us to wait for `drain`. */
    private readonly write: (ev: WatchEvent) => boolean,
    private readonly onDrain: (fn: () => void) => void,
    private readonly hub: WatchHub,
  ) {}

  offer(event: NonNullable<WatchEvent["event"]>): void {
    if (this.closed) return;
    const seq = ++this.seq;
    if (this.events >= this.queueSize) {
      this.lostTotal++;
      this.hub.lost++;
      const last = this.items[this.items.length - 1];
      if (last?.kind === "lost") {
        last.count++;
        last.lastSeq = seq;
      } else this.items.push({ kind: "lost", count: 1, lastSeq: seq });
      return;
    }
    this.items.push({ kind: "event", seq, event });
    this.events++;
    this.flush();
  }

  private flush(): void {
    if (this.waiting || this.closed) return;
    while (this.items.length > 0) {
      const item = this.items.shift()!;
      let msg: WatchEvent;
      if (item.kind === "event") {
        this.events--;
        this.delivered++;
        msg = WatchEvent.create({ seq: item.seq, event: item.event });
      } else {
        msg = WatchEvent.create({ seq: item.lastSeq, event: { $case: "lost", value: LostEvents.create({ count: item.count, total: this.lostTotal }) } });
      }
      if (!this.write(msg)) {
        this.waiting = true;
        this.onDrain(() => {
          this.waiting = false;
          this.flush();
        });
        return;
      }
    }
  }

  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.events = 0;
  }
}

export class WatchHub {
  private readonly clients = new Set<WatchClient>();
  private nextId = 1;
  /** Events dropped across all clients. */
  lost = 0;

  constructor(
    private readonly queueSize: number,
    readonly maxClients: number,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Null when maxClients are already watching. */
  subscribe(filter: WatchFilter, write: (ev: WatchEvent) => boolean, onDrain: (fn: () => void) => void): WatchClient | null {
    if (this.clients.size >= this.maxClients) return null;
    const c = new WatchClient(this.nextId++, filter, this.queueSize, write, onDrain, this);
    this.clients.add(c);
    return c;
  }

  unsubscribe(c: WatchClient): void {
    c.close();
    this.clients.delete(c);
  }

  publishDetection(d: Detection): void {
    for (const c of this.clients) if (c.filter.detections) c.offer({ $case: "detection", value: d });
  }

  publishFlow(r: FlowRecord): void {
    for (const c of this.clients) if (c.filter.flows) c.offer({ $case: "flow", value: r });
  }

  closeAll(): void {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }
}
