// The capture extractor: feeds the pipeline from a pcap/pcapng file instead of a live interface,
// so the whole pipeline (models, responders, Watch, the page) runs on a capture, with no data plane
// and no root. The capture goes through the reference data plane (plugins/extractors/xdp/
// reference.ts: the kernel's flow rules, record for record) with the agent's flow settings
// (dataplane.idle_timeout_ms, active_timeout_ms, early_end_packets, sweep_interval_ms); the records
// stream out as fast as the pipeline takes them, or at capture pace.
import { basename } from "node:path";
import { s } from "../../../core/config/schema.ts";
import { pluginInfo, serving } from "../../../core/plugin-api/info.ts";
import { coreServices } from "../../../core/plugin-api/services.ts";
import { definePlugin, type FlowRecord } from "../../../core/plugin-api/types.ts";
import { salvageCapture } from "../xdp/pcap.ts";
import { toBusRecord } from "../xdp/records.ts";
import { replayReference } from "../xdp/replay.ts";
import { flowReplayOptions } from "../xdp/replay-config.ts";

export const pcapExtractor = () =>
  definePlugin({
    name: "pcap",
    kind: "extractor",
    description: "flow records of a capture file (pcap/pcapng), through the reference data plane",
    config: s.object({
      /** The capture file. */
      capture: s.string({ min: 1, expected: "a pcap or pcapng file path" }),
      /** "asap": as fast as the pipeline takes them; "capture": at the pace of the capture's clock. */
      pace: s.default(s.enum(["asap", "capture"] as const), "asap"),
    }),
    deps: { dataplane: coreServices.dataplane },
    async init(ctx) {
      const { packets, damage } = salvageCapture(ctx.config.capture);
      if (damage) ctx.log.warn(`${ctx.config.capture}: ${damage}; the complete packets before it are replayed`);
      const { records, skipped } = replayReference(packets, flowReplayOptions(ctx.deps.dataplane.settings));
      // Delivered in the order the flows ended (their last packet), as a live data plane would.
      records.sort((a, b) => (a.lastUs < b.lastUs ? -1 : a.lastUs > b.lastUs ? 1 : 0));
      const source = `pcap:${basename(ctx.config.capture)}`;
      const bus = records.map((r) => toBusRecord(r, source));
      ctx.log.info(`${ctx.config.capture}: ${packets.length} packets (${skipped} too short to replay), ${bus.length} flow records`);
      let delivered = 0;
      return {
        describe: async () =>
          pluginInfo(ctx.id, "extractor", "1", "capture file flows", { capture: ctx.config.capture, packets: String(packets.length), records: String(bus.length), delivered: String(delivered) }),
        health: async () => serving(),
        stream(sink: (r: FlowRecord) => void) {
          let stopped = false;
          void (async () => {
            let prev: number | null = null;
            for (const r of bus) {
              if (stopped) return;
              if (ctx.config.pace === "capture" && prev !== null && r.lastUs > prev) await Bun.sleep(Math.min(60_000, (r.lastUs - prev) / 1000));
              else if (delivered % 256 === 0) await Bun.sleep(0); // let the pipeline drain between bursts
              prev = r.lastUs;
              if (stopped) return;
              sink({ ...r });
              delivered++;
            }
            ctx.log.info(`${ctx.config.capture}: all ${delivered} flow records delivered`);
          })();
          return () => (stopped = true);
        },
      };
    },
  });
