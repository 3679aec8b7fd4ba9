// The built-in flow extractor: the XDP data plane's ended flows. It drains the ring buffer (every
// 10 ms) and, since the kernel ends idle flows only when their next packet arrives, runs the sweep
// program on dataplane.sweep_interval_ms so quiet flows end too. Draining starts when the core
// opens the stream: until then records wait in the ring (a full ring is counted as lost).
import type { FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { s } from "../../../core/config/schema.ts";
import type { DataPlane } from "../../../core/ebpf/dataplane.ts";
import { pluginInfo, serving } from "../../../core/plugin-api/info.ts";
import { coreServices } from "../../../core/plugin-api/services.ts";
import { definePlugin, type ExtractorApi, type Logger } from "../../../core/plugin-api/types.ts";
import { toBusRecord } from "./records.ts";

const POLL_MS = 10;

/** The extractor's API plus what the testbed needs: end every live flow now. */
export interface XdpExtractorApi extends ExtractorApi {
  /** Ends every live flow (classifying it, as at any flow end) and delivers the records. */
  flush(): number;
}

class FlowDrain {
  private readonly sinks = new Set<(r: FlowRecord) => void>();
  private timers: ReturnType<typeof setInterval>[] = [];
  private closed = false;

  constructor(
    private readonly dp: DataPlane,
    private readonly source: string,
    private readonly sweepMs: number,
    private readonly log: Logger,
  ) {}

  private emit = (r: Parameters<Parameters<DataPlane["drain"]>[0]>[0]): void => {
    const rec = toBusRecord(r, this.source);
    for (const sink of this.sinks) sink(rec);
  };

  subscribe(sink: (r: FlowRecord) => void): () => void {
    this.sinks.add(sink);
    if (this.timers.length === 0 && !this.closed) {
      this.timers = [setInterval(() => this.guard("ring buffer drain", () => this.dp.drain(this.emit)), POLL_MS), setInterval(() => this.guard("sweep", () => this.dp.sweep("expire", this.emit)), this.sweepMs)];
    }
    return () => this.sinks.delete(sink);
  }

  flush(): number {
    return this.dp.sweep("flush", this.emit);
  }

  close(): void {
    if (this.closed) return;
    this.guard("ring buffer drain", () => this.dp.drain(this.emit));
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
  }

  private guard(what: string, fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (err) {
      this.log.error(`${what} failed: ${(err as Error).message}`);
    }
  }
}

export const xdpExtractor = () => {
  let drain: FlowDrain | null = null;
  return definePlugin({
    name: "xdp",
    kind: "extractor",
    description: "flow records of the XDP data plane (ring buffer drain and timeout sweeps)",
    config: s.object({}),
    deps: { dataplane: coreServices.dataplane },
    async init(ctx): Promise<XdpExtractorApi> {
      const dp = ctx.deps.dataplane;
      if (dp.kernel) drain = new FlowDrain(dp.kernel, dp.ifname, dp.settings.sweep_interval_ms, ctx.log);
      else ctx.log.info("no interface attached (dataplane.interfaces is empty): this extractor delivers no records");
      const d = drain;
      return {
        describe: async () => pluginInfo(ctx.id, "extractor", "1", "XDP data plane flows", { interfaces: dp.ifname, xdp_mode: dp.xdpMode }),
        health: async () => serving(),
        stream: (sink) => (d ? d.subscribe(sink) : () => {}),
        flush: () => d?.flush() ?? 0,
      };
    },
    async stop() {
      drain?.close();
    },
  });
};
