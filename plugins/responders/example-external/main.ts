#!/usr/bin/env bun
// An example external responder: its own process, serving xids.plugin.v1.Responder over gRPC with
// the SDK's servePlugin, the way a TypeScript plugin outside this repository would (`from "xids"`
// there; the relative import here is the same module). It appends every detection it is handed to
// a JSON-lines file named by its config (Configure: { path }), once per detection id: the core's
// delivery is at least once, so a retried detection is written only the first time.
//
// usage: bun plugins/responders/example-external/main.ts --listen unix:/run/xids/jsonl.sock
import { appendFileSync } from "node:fs";
import { AckMsg, pluginInfo, servePlugin, serving, type Detection } from "../../../sdk/index.ts";

const i = process.argv.indexOf("--listen");
const listen = i !== -1 ? process.argv[i + 1] : undefined;
if (!listen) {
  console.error("usage: main.ts --listen <unix:/path | 127.0.0.1:port>");
  process.exit(2);
}
let path = "";
const seen = new Set<string>();
let written = 0;

await servePlugin(listen, {
  responder: {
    describe: async () => pluginInfo("example-jsonl", "responder", "1", "detections as JSON lines", { path, written: String(written) }),
    health: async () => serving(),
    async configure(_id: string, config: unknown) {
      const c = config as { path?: unknown };
      for (const k of Object.keys(c)) if (k !== "path") throw new Error(`${k}: unknown key (path)`);
      if (typeof c.path !== "string" || c.path === "") throw new Error("path: expected a file path");
      path = c.path;
    },
    async handle(d: Detection) {
      if (!path) return AckMsg.create({ accepted: false, message: "not configured (config: { path })" });
      if (!seen.has(d.id)) {
        appendFileSync(path, JSON.stringify({ id: d.id, src: d.record?.srcAddr, dst: d.record?.dstAddr, dport: d.record?.dstPort, detector: d.detector, label: d.classification?.label, action: d.action }) + "\n");
        seen.add(d.id);
        written++;
      }
      return AckMsg.create({ accepted: true });
    },
  },
});
console.log(`example-jsonl: serving Responder on ${listen} (pid ${process.pid})`);
const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
