// One flow's path through the core: an extractor's record -> bounded queue -> model chain
// (pipeline.models; the first verdict wins) -> on ATTACK, the detection fan-out (inline
// responders, then the others). The agent starts and stops it; Watch, the live page and the
// testbed subscribe to its flows and detections.
import { Verdict, type Classification, type FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { XidsConfig } from "../config/config.ts";
import type { PluginHost } from "../host/host.ts";
import { throttled, type ScopedLogger } from "../util/log.ts";
import { Batcher } from "./batcher.ts";
import { DetectionFanout } from "./detections.ts";
import { classifyBatch } from "./model-chain.ts";

export interface PipelineCounters {
  flowsReceived: number;
  flowsClassified: number;
  /** Dropped because the queue was full. */
  flowsDropped: number;
  flowsUnclassified: number;
  classifyErrors: number;
}

export class Pipeline {
  readonly counters: PipelineCounters = { flowsReceived: 0, flowsClassified: 0, flowsDropped: 0, flowsUnclassified: 0, classifyErrors: 0 };
  readonly detections: DetectionFanout;
  private readonly batcher: Batcher<FlowRecord>;
  private readonly flowListeners = new Set<(r: FlowRecord) => void>();
  private readonly detectionListeners = new Set<(d: Detection) => void>();
  private readonly verdictListeners = new Set<(r: FlowRecord, c: Classification, model: string) => void>();
  private readonly warn = throttled((m) => this.log.warn(m));
  private stopped = false;

  constructor(
    private readonly cfg: XidsConfig["pipeline"],
    private readonly host: PluginHost,
    private readonly log: ScopedLogger,
  ) {
    this.detections = new DetectionFanout(host, cfg.responders, log, (d) => {
      for (const l of this.detectionListeners) l(d);
    });
    this.batcher = new Batcher<FlowRecord>({
      batchSize: cfg.batch_size,
      batchWaitMs: cfg.batch_wait_ms,
      queueSize: cfg.queue_size,
      inFlight: cfg.batches_in_flight,
      process: (batch) => this.classify(batch),
      onError: (err) => this.log.error(`pipeline: ${err.message}`),
    });
  }

  /** Entry point of every flow record. Never blocks: a full queue drops and counts. */
  ingest(record: FlowRecord): void {
    if (this.stopped) return;
    this.counters.flowsReceived++;
    for (const l of this.flowListeners) l(record);
    if (!this.batcher.push(record)) this.counters.flowsDropped++;
  }

  /** Begins classifying (records ingested before wait in the queue, e.g. while plugins start). */
  start(): void {
    this.batcher.start();
  }

  onFlow(listener: (r: FlowRecord) => void): () => void {
    this.flowListeners.add(listener);
    return () => this.flowListeners.delete(listener);
  }

  /** Every verdict the model chain gives, with the model that gave it (the shadow model compares). */
  onVerdict(listener: (r: FlowRecord, c: Classification, model: string) => void): () => void {
    this.verdictListeners.add(listener);
    return () => this.verdictListeners.delete(listener);
  }

  onDetection(listener: (d: Detection) => void): () => void {
    this.detectionListeners.add(listener);
    return () => this.detectionListeners.delete(listener);
  }

  /** Resolves once every queued record has been through the pipeline. */
  whenIdle(): Promise<void> {
    return this.batcher.whenIdle();
  }

  /** Stops taking records; lets the batch in flight finish (bounded). */
  async stop(maxWaitMs = 2_000): Promise<void> {
    this.stopped = true;
    await Promise.race([this.batcher.whenIdle(), Bun.sleep(maxWaitMs)]);
    this.batcher.close();
    this.detections.close();
  }

  private async classify(batch: FlowRecord[]): Promise<void> {
    const v = await classifyBatch(this.host, this.cfg.models, batch, this.warn, async (record, c, detector) => {
      for (const l of this.verdictListeners) l(record, c, detector);
      if (c.verdict === Verdict.VERDICT_ATTACK) await this.detections.detect(record, c, detector);
    });
    this.counters.flowsClassified += v.classified;
    this.counters.flowsUnclassified += v.unclassified;
    this.counters.classifyErrors += v.errors;
  }
}
