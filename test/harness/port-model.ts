// A stand-in model plugin for responder tests that need real detections on a real data plane
// without depending on what a trained model says: every flow to port 4444 is a port scan.
import type { Catalog } from "../../core/host/host.ts";
import { definePlugin, type FlowRecord, type PluginRegistration } from "../../core/plugin-api/types.ts";
import { s } from "../../core/config/schema.ts";
import { Classification, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { pluginInfo, serving } from "../../core/plugin-api/info.ts";
import { builtinCatalog } from "../../plugins/index.ts";

export const ATTACK_PORT = 4444;

export const portModel: PluginRegistration = definePlugin({
  name: "port-model",
  kind: "model",
  description: "",
  config: s.object({}),
  async init(ctx) {
    return {
      describe: async () => pluginInfo(ctx.id, "model", "3", "", { model: "port", model_version: "3" }),
      health: async () => serving(),
      classify: async (rs: FlowRecord[]) =>
        rs.map((r) =>
          Classification.create({
            flowId: r.id,
            verdict: r.dstPort === ATTACK_PORT ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN,
            label: r.dstPort === ATTACK_PORT ? "PortScan" : "BENIGN",
            score: r.dstPort === ATTACK_PORT ? 0.97 : 0.01,
            model: "port v3",
          }),
        ),
    };
  },
}) as unknown as PluginRegistration;

/** The built-in plugins plus `port-model`. */
export const catalogWithPortModel: Catalog = {
  get: (n) => (n === "port-model" ? portModel : builtinCatalog.get(n)),
  names: () => ["port-model", ...builtinCatalog.names()],
};
