import type { Command } from "../../core/cli/command.ts";
import { CONNECTION_HELP, parseWithConnection, connectFromFlags } from "../connection.ts";
import { rpcMessage } from "../control.ts";
import { WatchEvent } from "../../proto/gen/xids/control/v1/control.ts";
import { Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";

export const command: Command = {
  name: "watch",
  summary: "stream detections (and flow records) as they happen",
  help: `usage: xids watch [--flows] [--no-detections] [--count <n>] [--json]

Streams detections from the running core until interrupted. A client that reads too slowly is
told how many events it missed ("lost N events") instead of slowing the core down.
  --flows           also stream every flow record
  --no-detections   only flow records (with --flows)
  --count <n>       exit after n events
  --json            one JSON WatchEvent per line

${CONNECTION_HELP}

example: xids watch --flows --count 10`,
  async run(args) {
    const f = parseWithConnection(args, { flows: "boolean", "no-detections": "boolean", count: "number", json: "boolean" });
    const req = { detections: !f["no-detections"], flows: Boolean(f.flows) };
    const c = connectFromFlags(f);
    let n = 0;
    return new Promise<number>((resolve) => {
      const stream = c.watch(
        req,
        (ev) => {
          if (f.json) console.log(JSON.stringify(WatchEvent.toJSON(ev)));
          else if (ev.event?.$case === "detection") {
            const d = ev.event.value;
            const r = d.record;
            console.log(
              `${new Date(d.timeUnixMs).toISOString()} DETECTION ${r?.srcAddr}:${r?.srcPort} -> ${r?.dstAddr}:${r?.dstPort} proto ${r?.protocol} by ${d.detector} (${d.classification?.label}, score ${d.classification?.score})${d.action === "blocked" || d.action === "kernel-blocked" || (!d.action && d.blockTtlSeconds) ? `, blocked ${d.blockTtlSeconds ? `${d.blockTtlSeconds}s` : "until unblocked"}` : d.action ? `, ${d.action === "allowed" ? "not blocked (allow list)" : d.actionDetail ? `${d.action}: ${d.actionDetail}` : d.action}` : ""}`,
            );
          } else if (ev.event?.$case === "flow") {
            const r = ev.event.value;
            console.log(`flow ${r.srcAddr}:${r.srcPort} -> ${r.dstAddr}:${r.dstPort} proto ${r.protocol} pkts ${r.features[2] ?? "?"} kernel ${Verdict[r.kernelVerdict]}`);
          } else if (ev.event?.$case === "lost") {
            console.log(`lost ${ev.event.value.count} events (${ev.event.value.total} so far): this client reads too slowly`);
          }
          if (f.count !== undefined && ++n >= f.count) {
            stream.cancel();
          }
        },
        (err) => {
          c.close();
          if (err && !(f.count !== undefined && n >= f.count)) {
            console.error(`xids watch: ${rpcMessage(err)}`);
            resolve(1);
          } else resolve(0);
        },
      );
      const stop = () => stream.cancel();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
};
