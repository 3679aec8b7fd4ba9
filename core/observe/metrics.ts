// Prometheus text exposition (format 0.0.4) of the kernel counters (summed across CPUs) and the
// core's own counters. Every name starts with xids_; counters end in _total. The Grafana dashboard
// (core/observe/grafana-dashboard.json) is built on exactly these names.

/** What the metrics are rendered from: one consistent snapshot taken by the agent. */
export interface MetricsSnapshot {
  version: string;
  uptimeSeconds: number;
  interface: string;
  xdpMode: string;
  /** Kernel counters by name (DataPlane.counters()); empty without a kernel data plane. */
  kernel: Record<string, number | bigint>;
  core: {
    flowsReceived: number;
    flowsClassified: number;
    flowsDropped: number;
    flowsUnclassified: number;
    detections: number;
    classifyErrors: number;
    responderErrors: number;
    blocks: number;
    blocksSkippedAllowed: number;
    modelUpdates: number;
    modelUpdateFailures: number;
    ringbufLost: number;
    watchClients: number;
    watchLost: number;
  };
  blockedHosts: number;
  allowedCidrs: number;
  pinnedLinksReadopted: number;
  plugins: { id: string; kind: string; state: string; calls: number; errors: number; restarts: number }[];
  models: { plugin: string; model: string; version: number }[];
  /** Numeric properties responders report in Describe (webhook: queued, delivered, failed,
   *  retries, overflow; alert-log: written), by plugin id. */
  responders: Record<string, Record<string, number>>;
}

const RESPONDER_STATS: Record<string, { type: "counter" | "gauge"; help: string }> = {
  queued: { type: "gauge", help: "Deliveries waiting in the responder's queue." },
  delivered: { type: "counter", help: "Detections the responder delivered." },
  failed: { type: "counter", help: "Deliveries that failed after every retry." },
  retries: { type: "counter", help: "Delivery retries (exponential backoff)." },
  overflow: { type: "counter", help: "Detections refused because the responder's bounded queue was full." },
  written: { type: "counter", help: "Detections written (alert log lines)." },
};

/** Kernel counters that are levels, not running totals. */
const KERNEL_GAUGES = new Set(["flows_live"]);

const KERNEL_HELP: Record<string, string> = {
  pkts_seen: "Packets the XDP program saw.",
  bytes_seen: "Bytes the XDP program saw.",
  pkts_passed: "Packets passed to the stack.",
  bytes_passed: "Bytes passed to the stack.",
  pkts_dropped: "Packets dropped (blocked sources and malformed packets).",
  bytes_dropped: "Bytes dropped.",
  drop_blocked: "Packets dropped because their source is on the block list.",
  drop_malformed: "Malformed packets dropped (dropMalformed set).",
  flows_started: "Flows inserted into the flow table.",
  flows_ended: "Flows ended (each one ring-buffer record unless lost).",
  records_emitted: "Flow records written to the ring buffer.",
  records_lost: "Flow records the kernel could not write (ring buffer full).",
  verdict_benign: "In-kernel model verdicts: benign.",
  verdict_attack: "In-kernel model verdicts: attack.",
  blocks_added: "Sources blocked by the in-kernel model.",
  flows_live: "Flows in the flow tables now.",
};

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

class Exposition {
  private readonly lines: string[] = [];
  private readonly families = new Map<string, { type: string; help: string; samples: string[] }>();

  add(name: string, type: "counter" | "gauge", help: string, value: number | bigint, labels: Record<string, string> = {}): void {
    let f = this.families.get(name);
    if (!f) {
      f = { type, help, samples: [] };
      this.families.set(name, f);
    }
    const l = Object.entries(labels);
    const lbl = l.length ? `{${l.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}` : "";
    f.samples.push(`${name}${lbl} ${typeof value === "bigint" ? value.toString() : Number.isFinite(value) ? String(value) : "NaN"}`);
  }

  text(): string {
    for (const [name, f] of this.families) {
      this.lines.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.samples);
    }
    return this.lines.join("\n") + "\n";
  }
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function renderMetrics(m: MetricsSnapshot): string {
  const e = new Exposition();
  e.add("xids_build_info", "gauge", "Always 1; the labels say which xids runs where.", 1, { version: m.version, interface: m.interface, xdp_mode: m.xdpMode });
  e.add("xids_uptime_seconds", "gauge", "Seconds since the core started.", Math.round(m.uptimeSeconds * 1000) / 1000);

  // Kernel counters: per-reason families get a label, the rest one metric each.
  for (const [name, value] of Object.entries(m.kernel)) {
    const ended = /^ended_(.+)$/.exec(name);
    const reason = /^drop_reason_(\d+)$/.exec(name);
    if (ended) e.add("xids_kernel_flows_ended_by_reason_total", "counter", "Flows ended, by end reason.", value, { reason: ended[1]! });
    else if (reason) e.add("xids_kernel_drops_by_reason_total", "counter", "Packets dropped from blocked sources, by block reason.", value, { reason: reason[1]! });
    else if (KERNEL_GAUGES.has(name)) e.add(`xids_kernel_${name}`, "gauge", KERNEL_HELP[name] ?? `Kernel gauge ${name}.`, value);
    else e.add(`xids_kernel_${name}_total`, "counter", KERNEL_HELP[name] ?? `Kernel counter ${name} (summed across CPUs).`, value);
  }

  const c = m.core;
  e.add("xids_flows_received_total", "counter", "Flow records the core received.", c.flowsReceived);
  e.add("xids_flows_classified_total", "counter", "Flow records a model gave a verdict on.", c.flowsClassified);
  e.add("xids_flows_dropped_total", "counter", "Flow records dropped because the classification queue was full.", c.flowsDropped);
  e.add("xids_flows_unclassified_total", "counter", "Flow records every model abstained on or failed.", c.flowsUnclassified);
  e.add("xids_detections_total", "counter", "Attack detections.", c.detections);
  e.add("xids_classify_errors_total", "counter", "Failed calls to model plugins.", c.classifyErrors);
  e.add("xids_responder_errors_total", "counter", "Failed or refused deliveries to responders.", c.responderErrors);
  e.add("xids_blocks_total", "counter", "Sources blocked by user-space detections.", c.blocks);
  e.add("xids_blocks_skipped_allowed_total", "counter", "Detections not blocked because the source is on the allow list.", c.blocksSkippedAllowed);
  e.add("xids_ringbuf_lost_total", "counter", "Flow records lost before user space read them.", c.ringbufLost);
  e.add("xids_model_updates_total", "counter", "Successful hot model updates (PushModel).", c.modelUpdates);
  e.add("xids_model_update_failures_total", "counter", "Refused or failed hot model updates.", c.modelUpdateFailures);
  e.add("xids_watch_clients", "gauge", "Connected Watch clients.", c.watchClients);
  e.add("xids_watch_lost_total", "counter", "Events Watch clients missed (slow clients).", c.watchLost);
  e.add("xids_blocked_hosts", "gauge", "Sources on the block list now (unexpired).", m.blockedHosts);
  e.add("xids_allowed_cidrs", "gauge", "CIDRs on the allow list.", m.allowedCidrs);
  e.add("xids_xdp_links_readopted", "gauge", "XDP links taken over from pins left by an earlier run.", m.pinnedLinksReadopted);

  for (const p of m.plugins) {
    const l = { plugin: p.id, kind: p.kind };
    e.add("xids_plugin_up", "gauge", "1 when the plugin is running, else 0.", p.state === "running" ? 1 : 0, l);
  }
  for (const p of m.plugins) e.add("xids_plugin_calls_total", "counter", "Calls into the plugin.", p.calls, { plugin: p.id });
  for (const p of m.plugins) e.add("xids_plugin_errors_total", "counter", "Failed calls into the plugin.", p.errors, { plugin: p.id });
  for (const p of m.plugins) e.add("xids_plugin_restarts_total", "counter", "Restarts of the plugin's process.", p.restarts, { plugin: p.id });
  for (const [stat, meta] of Object.entries(RESPONDER_STATS)) {
    for (const [plugin, props] of Object.entries(m.responders)) {
      const v = props[stat];
      if (v !== undefined) e.add(meta.type === "counter" ? `xids_responder_${stat}_total` : `xids_responder_${stat}`, meta.type, meta.help, v, { plugin });
    }
  }
  for (const md of m.models) e.add("xids_model_version", "gauge", "Version of the model each model plugin runs (0 = none).", md.version, { plugin: md.plugin, model: md.model });
  return e.text();
}
