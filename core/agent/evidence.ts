// What `xids explain` reads: each source's latest flow records and the detections made on them.
// Bounded: at most `sources` sources (least recently seen evicted first) of `perSource` flows each,
// so at most sources x perSource records (defaults 1024 x 32; a record with 32 features is ~1 KB).
import type { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { ExplainFlow } from "../../proto/gen/xids/control/v1/control.ts";

export class EvidenceBuffer {
  private readonly bySource = new Map<string, ExplainFlow[]>();

  constructor(readonly perSource = 32, readonly sources = 1024) {}

  add(record: FlowRecord): void {
    const flows = this.bySource.get(record.srcAddr) ?? [];
    this.bySource.delete(record.srcAddr); // re-inserted last: Map order is the LRU order
    this.bySource.set(record.srcAddr, flows);
    flows.push(ExplainFlow.create({ record }));
    if (flows.length > this.perSource) flows.shift();
    if (this.bySource.size > this.sources) this.bySource.delete(this.bySource.keys().next().value!);
  }

  /** Attaches a detection to its flow, if that flow is still kept. */
  detected(d: Detection): void {
    const flow = this.bySource.get(d.record?.srcAddr ?? "")?.find((f) => f.record!.id === d.record!.id);
    if (flow) Object.assign(flow, { classification: d.classification, action: d.action });
  }

  /** The source's kept flows, oldest first. */
  of(srcAddr: string): ExplainFlow[] {
    return this.bySource.get(srcAddr) ?? [];
  }
}
