// The alert log: one JSON object per line per detection in Suricata's EVE JSON form (the fields
// Suricata's tools read: timestamp, flow_id, in_iface, the 5-tuple, alert.action/gid/signature_id/
// rev/signature/category/severity), beside xids's own: the flow key, the features by name (the
// flow's 22 and its source's context), the model and its version, the score and the action taken.
// To a file (appended, created with mode 0640) or to stdout ("-"). With `explain`, each line also
// says why: the flow's top features by Shapley contribution to the model's score (explain.ts).
import { closeSync, openSync, writeSync } from "node:fs";
import { Ack, Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { s } from "../../../core/config/schema.ts";
import { definePlugin } from "../../../core/plugin-api/types.ts";
import { FEATURE_NAMES } from "../../extractors/xdp/features.ts";
import { END_REASON_NAMES } from "../../../core/ebpf/abi.ts";
import { coreServices, type PluginMetrics } from "../../../core/plugin-api/services.ts";
import { pluginInfo, serving } from "../../../core/plugin-api/info.ts";
import { alertAction, classify, flowId, signatureId, suricataTimestamp } from "./suricata.ts";
import { AlertExplainer, type AlertExplanation } from "./explain.ts";

const config = s.object({
  /** File to append to; "-" = stdout. */
  path: s.default(s.string({ min: 1 }), "-"),
  /** Absent = no explanations. */
  explain: s.optional(
    s.object({
      top: s.default(s.int({ min: 1, max: 32 }), 3),
      permutations: s.default(s.int({ min: 2, max: 1_024 }), 16),
      max_per_second: s.default(s.int({ min: 1, max: 10_000 }), 10),
    }),
  ),
});

const PROTO: Record<number, string> = { 1: "ICMP", 6: "TCP", 17: "UDP", 58: "IPv6-ICMP" };

/** The EVE alert object of one detection (with its explanation, when there is one). */
export function alertEvent(d: Detection, explanation?: AlertExplanation): Record<string, unknown> {
  const r = d.record;
  const c = d.classification;
  const version = r && r.kernelVerdict !== Verdict.VERDICT_NONE ? r.modelVersion : Number(/v(\d+)$/.exec(c?.model ?? "")?.[1] ?? 0);
  const type = d.action || "alert";
  const attackClass = c?.label || "ATTACK";
  const modelName = (c?.model || d.detector).replace(/ v\d+$/, "");
  return {
    timestamp: suricataTimestamp(Number(d.timeUnixMs)),
    event_type: "alert",
    detection_id: d.id,
    flow_id: r ? flowId(r) : 0,
    in_iface: r?.source ?? "",
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
      record_id: r?.id ?? 0,
    },
    features: Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, r?.features[i] ?? null])),
    alert: {
      action: alertAction(type),
      gid: 1,
      signature_id: signatureId(attackClass),
      rev: version,
      signature: `xids ${modelName} ${attackClass}`,
      ...classify(attackClass),
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
          ? { type, ...(d.actionDetail ? { allow: d.actionDetail } : {}) }
          : type === "failed"
            ? { type, error: d.actionDetail }
            : type === "refused" || type === "not-yet"
              ? { type, reason: d.actionDetail }
              : { type },
    ...(explanation ? { explanation } : {}),
  };
}

export const alertLog = () =>
  definePlugin({
    name: "alert-log",
    kind: "responder",
    description: "one JSON line per detection (EVE-style)",
    config,
    deps: { metrics: coreServices.metrics, model: coreServices.model },
    async init(ctx) {
      let written = 0;
      const writtenTotal = ctx.deps.metrics.counter("xids_responder_written_total", "Detections written (alert log lines).");
      const explainer = ctx.config.explain && new AlertExplainer(ctx.config.explain, ctx.deps.model, counters(ctx.deps.metrics));
      // Held open (appending); reopen() opens the path again, so a log rotated by renaming it goes
      // on in a new file. An unwritable path fails the start.
      const open = () => (ctx.config.path === "-" ? -1 : openSync(ctx.config.path, "a", 0o640));
      let fd = open();
      // Closed once stopped: never a write to a number the process has reused for another file.
      ctx.signal.addEventListener("abort", () => (fd >= 0 && closeSync(fd), (fd = -1)));
      return {
        describe: async () => pluginInfo(ctx.id, "responder", "1", "JSON lines alert log", { path: ctx.config.path, written: String(written) }),
        health: async () => serving(),
        async reopen() {
          if (ctx.signal.aborted) return;
          const next = open();
          if (fd >= 0) closeSync(fd);
          fd = next;
        },
        async handle(d) {
          const line = JSON.stringify(alertEvent(d, explainer ? explainer.explain(d) : undefined)) + "\n";
          if (ctx.config.path === "-") process.stdout.write(line);
          else if (fd >= 0) writeSync(fd, line);
          else throw new Error(`${ctx.config.path}: the alert log is closed (stopped)`);
          written++;
          writtenTotal.inc();
          return Ack.create({ accepted: true });
        },
      };
    },
  });

function counters(metrics: PluginMetrics) {
  const explained = metrics.counter("xids_responder_explained_total", "Alert lines with an explanation (explain).");
  const skipped = metrics.counter("xids_responder_explain_skipped_total", "Alert lines without one: rate cap, no int32 MLP artifact, another model version (the line says which).");
  return { explained: () => explained.inc(), skipped: () => skipped.inc() };
}
