// What `xids explain` reads: each source's latest flows with the detections made on them, and a
// frozen copy of the flows up to its latest block decision (a scan's later flows would push those
// out). Bounded: at most `sources` sources (least recently seen evicted first), each with at most
// perSource + perSource / 2 records (defaults 1024 x 48; a record with 32 features is ~1 KB).
import { KernelBlock, type FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { ExplainFlow } from "../../proto/gen/xids/control/v1/control.ts";

type Kept = { latest: ExplainFlow[]; decision: ExplainFlow[] };

export class EvidenceBuffer {
  private readonly bySource = new Map<string, Kept>();

  constructor(readonly perSource = 32, readonly sources = 1024) {}

  add(record: FlowRecord): void {
    const k = this.bySource.get(record.srcAddr) ?? { latest: [], decision: [] };
    this.bySource.delete(record.srcAddr); // re-inserted last: Map order is the LRU order
    this.bySource.set(record.srcAddr, k);
    const wasBlocked = k.latest.at(-1)?.record!.kernelBlock === KernelBlock.KERNEL_BLOCK_BLOCKED;
    k.latest.push(ExplainFlow.create({ record }));
    if (k.latest.length > this.perSource) k.latest.shift();
    if (this.bySource.size > this.sources) this.bySource.delete(this.bySource.keys().next().value!);
    if (record.kernelBlock === KernelBlock.KERNEL_BLOCK_BLOCKED && !wasBlocked) k.decision = k.latest.slice(-this.perSource / 2);
  }

  /** Attaches a detection to its flow, if that flow is still kept; a block by the core is a decision. */
  detected(d: Detection): void {
    const k = this.bySource.get(d.record?.srcAddr ?? "");
    const flow = k?.latest.find((f) => f.record!.id === d.record!.id);
    if (flow) Object.assign(flow, { classification: d.classification, action: d.action });
    if (k && d.action === "blocked") k.decision = k.latest.slice(-this.perSource / 2);
  }

  of(srcAddr: string): Kept {
    return this.bySource.get(srcAddr) ?? { latest: [], decision: [] };
  }

  /** Feeds the buffer from the pipeline. */
  follow(p: { onFlow(l: (r: FlowRecord) => void): unknown; onDetection(l: (d: Detection) => void): unknown }): this {
    p.onFlow((r) => this.add(r));
    p.onDetection((d) => this.detected(d));
    return this;
  }
}
