// An example in-process plugin from outside the core's catalog, loaded with `module:`: a plain
// file (or package) that depends on `xids` and imports only its SDK. It appends the id and source
// of every detection it is handed to the file its config names.
import { appendFileSync } from "node:fs";
import { AckMsg, definePlugin, pluginInfo, s, serving } from "xids";

export default () =>
  definePlugin({
    name: "file-sink",
    kind: "responder",
    description: "appends detections to a file",
    config: s.object({ path: s.string({ min: 1, expected: "a file path" }) }),
    async init(ctx) {
      let written = 0;
      return {
        describe: async () => pluginInfo(ctx.id, "responder", "1", "file sink", { path: ctx.config.path, written: String(written) }),
        health: async () => serving(),
        handle: async (d) => {
          appendFileSync(ctx.config.path, `${d.id} ${d.record?.srcAddr} ${d.classification?.label}\n`);
          written++;
          return AckMsg.create({ accepted: true });
        },
      };
    },
  });
