// The core's own metric families: build info, the kernel counters (summed across CPUs), the
// pipeline, plugin health, models and Watch. Every name starts with xids_; counters end in _total.
// Plugins register theirs themselves (PluginMetrics). The Grafana dashboard
// (core/observe/grafana-dashboard.json) is built on these names and the plugins'.
import type { MetricSample } from "../plugin-api/services.ts";
import type { MetricsRegistry } from "./registry.ts";
import { COUNTER_HELP } from "../ebpf/abi.ts";

/** What the core metrics are read from, at scrape time. */
export interface CoreMetricsSource {
  version: string;
  startedAtMs: number;
  dataplane(): { ifname: string; xdpMode: string; kernel: Record<string, number>; blockedHosts: number; allowedCidrs: number; readopted: number; ringbufLost: number };
  pipeline(): {
    flowsReceived: number; flowsClassified: number; flowsDropped: number; flowsUnclassified: number; classifyErrors: number;
    detections: number; responderErrors: number; responderOverflow: number; responderQueued: number; blocks: number; blocksSkippedAllowed: number;
  };
  modelUpdates(): { ok: number; failed: number };
  plugins(): { id: string; kind: string; state: string; calls: number; errors: number; restarts: number }[];
  models(): { plugin: string; model: string; version: number }[];
  watch(): { clients: number; lost: number };
}

/** Kernel counters that are levels, not running totals. */
const KERNEL_GAUGES = new Set(["flows_live", "ctx_live", "ctx_capacity", "ctx_bytes"]);

const KERNEL_HELP: Record<string, string> = {
  ...COUNTER_HELP,
  flows_live: "Flows in the flow tables now.",
  flows_evicted: "Flows pushed out of a full flow table (started - ended - live).",
  ctx_live: "Sources with a context now.",
  ctx_evicted: "Source contexts pushed out of the full map (created - live): spoofed floods do this.",
  ctx_capacity: "Sources the context map holds.",
  ctx_bytes: "Memory of the source-context map (entries x (key + value)).",
};

const one = (value: number): MetricSample[] => [{ value }];

export function registerCoreMetrics(reg: MetricsRegistry, src: CoreMetricsSource, kernelCounterNames: readonly string[]): void {
  reg.collected("xids_build_info", "Always 1; the labels say which xids runs where.", "gauge", ["version", "interface", "xdp_mode"], () => {
    const d = src.dataplane();
    return [{ value: 1, labels: { version: src.version, interface: d.ifname, xdp_mode: d.xdpMode } }];
  });
  reg.collected("xids_uptime_seconds", "Seconds since the core started.", "gauge", [], () => one((Date.now() - src.startedAtMs) / 1000));

  // Kernel counters: per-reason families get a label, the rest one family each. The names come
  // from the kernel's counter enum (core/ebpf/abi.ts), so every counter the kernel keeps is shown.
  const kernel = (name: string) => src.dataplane().kernel[name] ?? 0;
  const byPrefix = (prefix: string, label: string) => () =>
    Object.entries(src.dataplane().kernel)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, value]) => ({ value, labels: { [label]: k.slice(prefix.length) } }));
  reg.collected("xids_kernel_flows_ended_by_reason_total", "Flows ended, by end reason.", "counter", ["reason"], byPrefix("ended_", "reason"));
  reg.collected("xids_kernel_drops_by_reason_total", "Packets dropped from blocked sources, by block reason.", "counter", ["reason"], byPrefix("drop_reason_", "reason"));
  for (const name of [...kernelCounterNames, "flows_live", "flows_evicted", "ctx_live", "ctx_evicted", "ctx_capacity", "ctx_bytes"]) {
    if (name.startsWith("ended_") || name.startsWith("drop_reason_")) continue;
    if (KERNEL_GAUGES.has(name)) reg.collected(`xids_kernel_${name}`, KERNEL_HELP[name] ?? `Kernel gauge ${name}.`, "gauge", [], () => one(kernel(name)));
    else reg.collected(`xids_kernel_${name}_total`, KERNEL_HELP[name] ?? `Kernel counter ${name} (summed across CPUs).`, "counter", [], () => one(kernel(name)));
  }

  const p = (key: keyof ReturnType<CoreMetricsSource["pipeline"]>) => () => one(src.pipeline()[key]);
  reg.collected("xids_flows_received_total", "Flow records the core received.", "counter", [], p("flowsReceived"));
  reg.collected("xids_flows_classified_total", "Flow records a model gave a verdict on.", "counter", [], p("flowsClassified"));
  reg.collected("xids_flows_dropped_total", "Flow records dropped because the classification queue was full.", "counter", [], p("flowsDropped"));
  reg.collected("xids_flows_unclassified_total", "Flow records every model abstained on or failed.", "counter", [], p("flowsUnclassified"));
  reg.collected("xids_detections_total", "Attack detections.", "counter", [], p("detections"));
  reg.collected("xids_classify_errors_total", "Failed calls to model plugins.", "counter", [], p("classifyErrors"));
  reg.collected("xids_responder_errors_total", "Failed or refused deliveries to responders (a failed one is retried).", "counter", [], p("responderErrors"));
  reg.collected("xids_delivery_overflow_total", "Detections a responder's full delivery queue in the core could not take (dropped).", "counter", [], p("responderOverflow"));
  reg.collected("xids_delivery_queued", "Detections the core holds for responders that are down or slow (retried).", "gauge", [], p("responderQueued"));
  reg.collected("xids_blocks_total", "Detections whose inline responder blocked the source (action \"blocked\").", "counter", [], p("blocks"));
  reg.collected("xids_blocks_skipped_allowed_total", "Detections not blocked because the source is on the allow list (action \"allowed\").", "counter", [], p("blocksSkippedAllowed"));
  reg.collected("xids_ringbuf_lost_total", "Flow records lost before user space read them.", "counter", [], () => one(src.dataplane().ringbufLost));
  reg.collected("xids_model_updates_total", "Successful hot model updates (PushModel).", "counter", [], () => one(src.modelUpdates().ok));
  reg.collected("xids_model_update_failures_total", "Refused or failed hot model updates.", "counter", [], () => one(src.modelUpdates().failed));
  reg.collected("xids_watch_clients", "Connected Watch clients.", "gauge", [], () => one(src.watch().clients));
  reg.collected("xids_watch_lost_total", "Events Watch clients missed (slow clients).", "counter", [], () => one(src.watch().lost));
  reg.collected("xids_blocked_hosts", "Sources on the block list now (unexpired).", "gauge", [], () => one(src.dataplane().blockedHosts));
  reg.collected("xids_allowed_cidrs", "CIDRs on the allow list.", "gauge", [], () => one(src.dataplane().allowedCidrs));
  reg.collected("xids_xdp_links_readopted", "XDP links taken over from pins left by an earlier run.", "gauge", [], () => one(src.dataplane().readopted));

  const plugin = (read: (q: ReturnType<CoreMetricsSource["plugins"]>[number]) => number) => () => src.plugins().map((q) => ({ value: read(q), labels: { plugin: q.id } }));
  reg.collected("xids_plugin_up", "1 when the plugin is running, else 0.", "gauge", ["plugin", "kind"], () =>
    src.plugins().map((q) => ({ value: q.state === "running" ? 1 : 0, labels: { plugin: q.id, kind: q.kind } })),
  );
  reg.collected("xids_plugin_calls_total", "Calls into the plugin.", "counter", ["plugin"], plugin((q) => q.calls));
  reg.collected("xids_plugin_errors_total", "Failed calls into the plugin.", "counter", ["plugin"], plugin((q) => q.errors));
  reg.collected("xids_plugin_restarts_total", "Restarts of the plugin's process.", "counter", ["plugin"], plugin((q) => q.restarts));
  reg.collected("xids_model_version", "Version of the model each model plugin runs (0 = none).", "gauge", ["plugin", "model"], () =>
    src.models().map((m) => ({ value: m.version, labels: { plugin: m.plugin, model: m.model } })),
  );
}
