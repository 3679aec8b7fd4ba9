// What happens to an attack verdict. The inline responders (XDP drop) run first, in config order,
// and what they report doing (blocked, kernel-blocked, allowed, failed) becomes the detection's
// action; then the detection goes to every other responder, each isolated with its deadline and
// not waited on, so a slow or dead responder delays neither a block nor the next detection.
import type { Classification, FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { PluginHost } from "../host/host.ts";
import type { ScopedLogger } from "../util/log.ts";

/** Detection.action when no inline responder acted (none configured, or all refused). */
export const NO_ACTION = "alert";

export interface DetectionCounts {
  detections: number;
  /** By Detection.action ("blocked", "kernel-blocked", "allowed", "alert", "failed", ...). */
  byAction: Map<string, number>;
  responderErrors: number;
}

export class DetectionFanout {
  readonly counts: DetectionCounts = { detections: 0, byAction: new Map(), responderErrors: 0 };
  private seq = 0;
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
    for (const id of rest) {
      this.host.call(id, "responder", "handle", (api) => api.handle(detection)).then(
        (ack) => {
          if (!ack.accepted) this.refused(id, detection, ack.message);
        },
        (err: Error) => {
          this.counts.responderErrors++;
          this.log.child(id).warn(err.message);
        },
      );
    }
    return detection;
  }

  private refused(id: string, d: Detection, message: string): void {
    this.counts.responderErrors++;
    this.log.child(id).warn(`refused detection ${d.id}: ${message}`);
  }
}
