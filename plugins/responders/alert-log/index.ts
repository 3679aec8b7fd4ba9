// The alert log: one JSON object per line per detection, in the spirit of Suricata's EVE JSON
// (event_type "alert", src_ip/src_port/dest_ip/dest_port/proto at the top level), with the flow
// key, the 22 features by name, the model and its version, the score and the action taken. To a
// file (appended, created with mode 0640) or to stdout ("-").
import { appendFileSync } from "node:fs";
import { Ack, Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { s } from "../../../core/config/schema.ts";
import { definePlugin, type PluginFactory } from "../../../core/plugins/types.ts";
import { FEATURE_NAMES } from "../../../core/dataplane/features.ts";
import { END_REASON_NAMES } from "../../../core/dataplane/abi.ts";
import { cidrContains, parseCidr, parseIp } from "../../../core/runtime/net.ts";
import type { DataPlanePort } from "../../../core/runtime/ports.ts";
import { pluginInfo, serving } from "../../info.ts";

const config = s.object({
  /** File to append to; "-" = stdout. */
  path: s.default(s.string({ min: 1 }), "-"),
});

const PROTO: Record<number, string> = { 1: "ICMP", 6: "TCP", 17: "UDP", 58: "IPv6-ICMP" };

function allowListed(dp: DataPlanePort | undefined, src: string): string | null {
  const a = parseIp(src);
  if (!dp || !a) return null;
  for (const c of dp.listAllowed()) {
    const cidr = parseCidr(c);
    if (!("error" in cidr) && cidrContains(cidr, a)) return c;
  }
  return null;
}

/** The EVE-style alert object of one detection. */
export function alertEvent(d: Detection, dp?: DataPlanePort): Record<string, unknown> {
  const r = d.record;
  const c = d.classification;
  const version = r && r.kernelVerdict !== Verdict.VERDICT_NONE ? r.modelVersion : Number(/v(\d+)$/.exec(c?.model ?? "")?.[1] ?? 0);
  // Cores before the action field: a TTL meant a block; otherwise look at the allow list.
  const type = d.action || (d.blockTtlSeconds > 0 ? "blocked" : allowListed(dp, r?.srcAddr ?? "") ? "allowed" : "alert");
  const allowedBy = type === "allowed" ? allowListed(dp, r?.srcAddr ?? "") : null;
  return {
    timestamp: new Date(Number(d.timeUnixMs)).toISOString(),
    event_type: "alert",
    detection_id: d.id,
    flow_id: r?.id ?? 0,
    src_ip: r?.srcAddr ?? "",
    src_port: r?.srcPort ?? 0,
    dest_ip: r?.dstAddr ?? "",
    dest_port: r?.dstPort ?? 0,
    proto: PROTO[r?.protocol ?? 0] ?? String(r?.protocol ?? 0),
    flow: {
      family: r?.family ?? 0,
      protocol: r?.protocol ?? 0,
      first_us: r?.firstUs ?? 0,
      last_us: r?.lastUs ?? 0,
      end_reason: END_REASON_NAMES[r?.endReason ?? 0] ?? String(r?.endReason),
      source: r?.source ?? "",
    },
    features: Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, r?.features[i] ?? null])),
    alert: {
      detector: d.detector,
      model: c?.model ?? "",
      model_version: version,
      label: c?.label ?? "",
      score: c?.score ?? 0,
      verdict_source: r && r.kernelVerdict !== Verdict.VERDICT_NONE ? "kernel" : "user-space",
    },
    action:
      type === "blocked" || type === "kernel-blocked"
        ? { type, ttl_seconds: d.blockTtlSeconds }
        : type === "allowed"
          ? { type, ...(allowedBy ? { allow: allowedBy } : {}) }
          : { type },
  };
}

export const alertLog: PluginFactory<"responder", { path: string }> = () =>
  definePlugin({
    name: "alert-log",
    kind: "responder",
    description: "one JSON line per detection (EVE-style)",
    config,
    async init(ctx) {
      let written = 0;
      return {
        describe: async () => pluginInfo(ctx.id, "responder", "1", "JSON lines alert log", { path: ctx.config.path, written: String(written) }),
        health: async () => serving(),
        async handle(d) {
          const line = JSON.stringify(alertEvent(d, ctx.services.dataplane)) + "\n";
          if (ctx.config.path === "-") process.stdout.write(line);
          else appendFileSync(ctx.config.path, line, { mode: 0o640 });
          written++;
          return Ack.create({ accepted: true });
        },
      };
    },
  });
