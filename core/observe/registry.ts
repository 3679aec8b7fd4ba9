// The metrics registry (prom-client). The core registers its own families; each plugin registers
// its own through the `metrics` service (PluginMetrics), every series labelled with the plugin's
// id, so the core names none of a plugin's metrics. Values kept elsewhere (kernel maps, the
// plugin host, a responder's queue) are read when /metrics is scraped.
import { Counter, Gauge, Registry } from "prom-client";
import type { MetricSample, PluginMetrics } from "../plugin-api/services.ts";

export type MetricType = "counter" | "gauge";

const NAME = /^xids_[a-z0-9_]+$/;

export class MetricsRegistry {
  private readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  /** Plugin values read at scrape time: family name -> plugin id -> reader. */
  private readonly pluginReads = new Map<string, { type: MetricType; readers: Map<string, () => number> }>();

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  /** A family whose samples are read from elsewhere each time /metrics is scraped. */
  collected(name: string, help: string, type: MetricType, labelNames: readonly string[], read: () => MetricSample[]): void {
    checkName(name);
    if (type === "counter") {
      new Counter({
        name, help, labelNames, registers: [this.registry],
        collect() {
          this.reset();
          for (const s of read()) this.inc(s.labels ?? {}, s.value);
        },
      });
    } else {
      new Gauge({
        name, help, labelNames, registers: [this.registry],
        collect() {
          this.reset();
          for (const s of read()) this.set(s.labels ?? {}, s.value);
        },
      });
    }
  }

  /** The metrics service one plugin instance receives. */
  forPlugin(pluginId: string): PluginMetrics {
    return {
      counter: (name, help) => {
        const child = this.pluginCounter(name, help).labels({ plugin: pluginId });
        child.inc(0);
        return { inc: (by = 1) => child.inc(by) };
      },
      read: (name, help, type, read) => void this.pluginRead(name, help, type).set(pluginId, read),
    };
  }

  /** The exposition text (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private pluginCounter(name: string, help: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      checkName(name);
      c = new Counter({ name, help, labelNames: ["plugin"], registers: [this.registry] });
      this.counters.set(name, c);
    }
    return c;
  }

  private pluginRead(name: string, help: string, type: MetricType): Map<string, () => number> {
    const known = this.pluginReads.get(name);
    if (known) {
      if (known.type !== type) throw new Error(`metric ${name} is a ${known.type}, not a ${type}`);
      return known.readers;
    }
    const readers = new Map<string, () => number>();
    this.collected(name, help, type, ["plugin"], () => [...readers].map(([plugin, read]) => ({ value: read(), labels: { plugin } })));
    this.pluginReads.set(name, { type, readers });
    return readers;
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`metric name "${name}" must match ${NAME.source}`);
}
