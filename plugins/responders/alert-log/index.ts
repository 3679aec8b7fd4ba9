// The alert log: one JSON line per detection, to a file or to stderr ("-").
import { appendFileSync } from "node:fs";
import { Ack, Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { s } from "../../../core/config/schema.ts";
import { definePlugin, type PluginFactory } from "../../../core/plugins/types.ts";
import { pluginInfo, serving } from "../../info.ts";

const config = s.object({
  /** File to append to; "-" = stderr. */
  path: s.default(s.string({ min: 1 }), "-"),
});

export const alertLog: PluginFactory<"responder", { path: string }> = () =>
  definePlugin({
    name: "alert-log",
    kind: "responder",
    description: "one JSON line per detection",
    config,
    async init(ctx) {
      let written = 0;
      return {
        describe: async () => pluginInfo(ctx.id, "responder", "1", "JSON lines alert log", { path: ctx.config.path, written: String(written) }),
        health: async () => serving(),
        async handle(d) {
          const line = JSON.stringify({ alert: Detection.toJSON(d) }) + "\n";
          if (ctx.config.path === "-") process.stderr.write(line);
          else appendFileSync(ctx.config.path, line);
          written++;
          return Ack.create({ accepted: true });
        },
      };
    },
  });
