// What happens to an attack verdict. The inline responders (XDP drop) run first, in config order,
// and what they report doing (blocked, kernel-blocked, allowed, failed) becomes the detection's
// action; then the detection goes into every other responder's own queue, never waited on, so a
// slow or dead responder delays neither a block nor the next detection. Delivery is at least once,
// in order: a failed call (down, timed out) is retried after 250 ms doubling to 5 s; a responder
// de-duplicates by Detection.id. A full queue (RESPONDER_QUEUE) drops the detection, counted.
import type { Classification, FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { PluginHost } from "../host/host.ts";
import { throttled, type ScopedLogger } from "../util/log.ts";

/** Detection.action when no inline responder acted (none configured, or all refused). */
export const NO_ACTION = "alert";
export const RESPONDER_QUEUE = 10_000;

export interface DetectionCounts {
  detections: number;
  /** By Detection.action ("blocked", "kernel-blocked", "allowed", "alert", "failed", ...). */
  byAction: Map<string, number>;
  responderErrors: number;
  /** Detections a responder's full queue could not take. */
  responderOverflow: number;
}

export class DetectionFanout {
  readonly counts: DetectionCounts = { detections: 0, byAction: new Map(), responderErrors: 0, responderOverflow: 0 };
  private readonly queues = new Map<string, { items: Detection[]; busy: boolean }>();
  private readonly warn = throttled((m) => this.log.warn(m));
  private seq = 0;
  private closed = false;
  private readonly runId = Date.now().toString(36);

  constructor(
    private readonly host: PluginHost,
    private readonly responders: readonly string[],
    private readonly log: ScopedLogger,
    private readonly publish: (d: Detection) => void,
  ) {}

  async detect(record: FlowRecord, classification: Classification, detector: string): Promise<Detection> {
    const detection = Detection.create({
      id: `d-${this.runId}-${++this.seq}`,
      timeUnixMs: Date.now(),
      record,
      classification,
      detector,
      action: NO_ACTION,
    });
    const rest: string[] = [];
    for (const id of this.responders) {
      if (!this.host.isInline(id)) {
        rest.push(id);
        continue;
      }
      try {
        const ack = await this.host.call(id, "responder", "handle", (api) => api.handle(detection));
        if (ack.action) {
          detection.action = ack.action;
          detection.blockTtlSeconds = ack.blockTtlSeconds;
          detection.actionDetail = ack.message;
        }
        if (!ack.accepted) this.refused(id, detection, ack.message);
      } catch (err) {
        this.counts.responderErrors++;
        detection.action = "failed";
        detection.actionDetail = (err as Error).message;
        this.log.child(id).warn((err as Error).message);
      }
    }
    this.counts.detections++;
    this.counts.byAction.set(detection.action, (this.counts.byAction.get(detection.action) ?? 0) + 1);
    this.publish(detection);
    for (const id of rest) this.enqueue(id, detection);
    return detection;
  }

  /** Detections waiting for a responder that is down or slow (all of them: for status, tests). */
  get queued(): number {
    return [...this.queues.values()].reduce((n, q) => n + q.items.length, 0);
  }

  private enqueue(id: string, d: Detection): void {
    const q = this.queues.get(id) ?? this.queues.set(id, { items: [], busy: false }).get(id)!;
    if (q.items.length >= RESPONDER_QUEUE) return void (this.counts.responderOverflow++, this.warn(id, `responder ${id}: queue full (${RESPONDER_QUEUE}), detection ${d.id} dropped`));
    q.items.push(d);
    if (!q.busy) void this.drain(id, q);
  }

  private async drain(id: string, q: { items: Detection[]; busy: boolean }): Promise<void> {
    q.busy = true;
    for (let delay = 250; q.items.length > 0 && !this.closed; ) {
      try {
        const ack = await this.host.call(id, "responder", "handle", (api) => api.handle(q.items[0]!));
        if (!ack.accepted) this.refused(id, q.items[0]!, ack.message);
        q.items.shift();
        delay = 250;
      } catch (err) {
        this.counts.responderErrors++;
        this.warn(id, `responder ${id}: ${(err as Error).message}; ${q.items.length} detection(s) wait, retrying in ${delay} ms`);
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
    q.busy = false;
  }

  /** Stops delivering; says how many detections never reached their responders. */
  close(): void {
    this.closed = true;
    for (const [id, q] of this.queues) if (q.items.length) this.log.warn(`responder ${id}: ${q.items.length} detection(s) not delivered at shutdown`);
  }

  private refused(id: string, d: Detection, message: string): void {
    this.counts.responderErrors++;
    this.log.child(id).warn(`refused detection ${d.id}: ${message}`);
  }
}
