import type { Command } from "../../core/cli/command.ts";
import { CONNECTION_HELP, parseWithConnection, targetFromFlags } from "../connection.ts";
import { connectControl } from "../control.ts";
import { ReconnectingWatch, WATCH_BACKOFF, type WatchGap, type WatchSummary } from "../reconnecting-watch.ts";
import { WatchEvent } from "../../proto/gen/xids/control/v1/control.ts";
import { Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";

export const command: Command = {
  name: "watch",
  summary: "stream detections (and flow records) as they happen",
  help: `usage: xids watch [--flows] [--no-detections] [--count <n>] [--json] [--no-reconnect]

Streams detections from the running core until interrupted. A client that reads too slowly is
told how many events it missed ("lost N events") instead of slowing the core down. When the
connection drops (the agent restarts) it reconnects with backoff (${WATCH_BACKOFF.initialMs / 1000}s doubling to
${WATCH_BACKOFF.maxMs / 1000}s), saying so on stderr, and prints the time it was away as a gap: events in it were not
seen. On exit it sums up what was missed, if anything. If the agent cannot be reached at start,
or refuses the client, it exits 1 at once.
  --flows           also stream every flow record
  --no-detections   only flow records (with --flows)
  --count <n>       exit after n events
  --json            one JSON WatchEvent per line; a gap is a line {"gap": {...}}
  --no-reconnect    exit 1 when the connection drops (for scripts)

${CONNECTION_HELP}

example: xids watch --flows --count 10`,
  async run(args) {
    const f = parseWithConnection(args, { flows: "boolean", "no-detections": "boolean", count: "number", json: "boolean", "no-reconnect": "boolean" });
    const request = { detections: !f["no-detections"], flows: Boolean(f.flows) };
    const target = targetFromFlags(f); // the token is read once, before watching starts
    const address = target.address ?? `unix:${target.socket}`;
    const json = f.json === true;
    let n = 0;
    const w: ReconnectingWatch = new ReconnectingWatch({
      connect: () => connectControl(target),
      request,
      reconnect: !f["no-reconnect"],
      on: {
        event(ev) {
          console.log(json ? JSON.stringify(WatchEvent.toJSON(ev)) : eventLine(ev, w.summary.lost));
          if (f.count !== undefined && ++n >= f.count) w.stop();
        },
        dropped: (why) => console.error(`xids watch: connection to ${address} dropped (${why}); reconnecting`),
        retrying: (attempt, ms) => console.error(`xids watch: retry ${attempt} in ${(ms / 1000).toFixed(1)}s`),
        retryFailed: (attempt, why) => console.error(`xids watch: retry ${attempt} failed: ${why}`),
        back(gap) {
          console.error(`xids watch: reconnected to ${address} after ${seconds(gap)}`);
          console.log(gapLine(gap, json));
        },
        failed: (why, never) => console.error(`xids watch: ${why}${never ? ` (is xids running? tried ${address})` : ""}`),
      },
    });
    const stop = () => w.stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const code = await w.run();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    const missed = summaryLine(w.summary);
    if (missed) console.error(`xids watch: ${missed}`);
    return code;
  },
};

function eventLine(ev: WatchEvent, lostInAll: number): string {
  if (ev.event?.$case === "detection") {
    const d = ev.event.value;
    const r = d.record;
    return `${new Date(d.timeUnixMs).toISOString()} DETECTION ${r?.srcAddr}:${r?.srcPort} -> ${r?.dstAddr}:${r?.dstPort} proto ${r?.protocol} by ${d.detector} (${d.classification?.label}, score ${d.classification?.score})${d.action === "blocked" || d.action === "kernel-blocked" || (!d.action && d.blockTtlSeconds) ? `, blocked ${d.blockTtlSeconds ? `${d.blockTtlSeconds}s` : "until unblocked"}` : d.action ? `, ${d.action === "allowed" ? "not blocked (allow list)" : d.actionDetail ? `${d.action}: ${d.actionDetail}` : d.action}` : ""}`;
  }
  if (ev.event?.$case === "flow") {
    const r = ev.event.value;
    return `flow ${r.srcAddr}:${r.srcPort} -> ${r.dstAddr}:${r.dstPort} proto ${r.protocol} pkts ${r.features[2] ?? "?"} kernel ${Verdict[r.kernelVerdict]}`;
  }
  if (ev.event?.$case === "lost") return `lost ${ev.event.value.count} events (${lostInAll} in all): this client reads too slowly`;
  return `unknown event (seq ${ev.seq})`;
}

const seconds = (g: WatchGap) => `${((g.toMs - g.fromMs) / 1000).toFixed(1)}s`;

function gapLine(g: WatchGap, json: boolean): string {
  if (json) return JSON.stringify({ gap: { from: new Date(g.fromMs).toISOString(), to: new Date(g.toMs).toISOString(), durationMs: g.toMs - g.fromMs } });
  return `${new Date(g.toMs).toISOString()} GAP ${seconds(g)} without a connection to the agent (from ${new Date(g.fromMs).toISOString()}): events in it were not seen`;
}

/** What this run did not see, or null when it saw everything. */
export function summaryLine(s: WatchSummary): string | null {
  const parts: string[] = [];
  if (s.lost > 0) parts.push(`${s.lost} event(s) lost (this client read too slowly)`);
  if (s.gaps.length > 0) parts.push(`${s.gaps.length} gap(s) without a connection, ${(s.gaps.reduce((t, g) => t + g.toMs - g.fromMs, 0) / 1000).toFixed(1)}s in all`);
  if (s.openGapFromMs !== null) parts.push(`stopped while disconnected (since ${new Date(s.openGapFromMs).toISOString()}, ${((Date.now() - s.openGapFromMs) / 1000).toFixed(1)}s not seen)`);
  return parts.length > 0 ? `${s.events} event(s) seen; ${parts.join("; ")}` : null;
}
