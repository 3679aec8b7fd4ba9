// Which model each model plugin runs: read from Describe at start (properties model, model_version
// and artifact), then updated by every successful PushModel.
import type { PluginHost } from "../host/host.ts";

export class ModelVersions {
  private readonly byPlugin = new Map<string, { model: string; version: number; artifact: string }>();
  readonly updates = { ok: 0, failed: 0 };

  async read(host: PluginHost): Promise<void> {
    for (const id of host.ids("model")) {
      try {
        const info = await host.call(id, "model", "describe", (api) => api.describe());
        const version = Number(info.properties.model_version ?? 0);
        if (version > 0) this.byPlugin.set(id, { model: info.properties.model ?? "", version, artifact: info.properties.artifact ?? "" });
      } catch {
        // reported by the host; status shows version 0
      }
    }
  }

  set(plugin: string, model: string, version: number, artifact: string): void {
    this.byPlugin.set(plugin, { model, version, artifact });
  }

  get(plugin: string): { model: string; version: number; artifact: string } | undefined {
    return this.byPlugin.get(plugin);
  }

  list(plugins: string[]): { plugin: string; model: string; version: number }[] {
    return plugins.map((plugin) => ({ plugin, model: this.byPlugin.get(plugin)?.model ?? "", version: this.byPlugin.get(plugin)?.version ?? 0 }));
  }
}
