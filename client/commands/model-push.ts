import { resolve } from "node:path";
import type { Command } from "../../core/cli/command.ts";
import { UsageError } from "../../core/cli/args.ts";
import { CONNECTION_HELP, parseWithConnection, withControl } from "../connection.ts";

export const command: Command = {
  name: "model push",
  summary: "hot-update a model of the running core from an artifact folder",
  help: `usage: xids model push <artifact-dir> [--target <plugin-id>] [--no-check]

Checks the artifact locally (manifest and parameters, with the models code), then asks the
running core to load it into a model plugin (default: the first of pipeline.models). The core
checks it again and swaps it in; on any error nothing changes.
  --target <id>   model plugin to update
  --no-check      skip the local check (the core checks anyway)

${CONNECTION_HELP}

example: xids model push models/artifacts/dt --target dt`,
  async run(args, ctx) {
    const f = parseWithConnection(args, { target: "string", "no-check": "boolean" });
    if (f._.length !== 1) throw new UsageError("expected one artifact folder: xids model push <artifact-dir> [--target <plugin-id>]");
    const dir = resolve(f._[0]!);
    if (!f["no-check"]) {
      process.stderr.write(`[1/2] checking ${dir} ... `);
      try {
        const m = await ctx.artifacts.load(dir);
        process.stderr.write(`ok (${m.kind}, ${m.features} features)\n`);
      } catch (err) {
        process.stderr.write("failed\n");
        console.error(`xids model push: ${(err as Error).message}`);
        return 1;
      }
    }
    return withControl("model push", f, async (c) => {
      process.stderr.write(`[2/2] pushing to ${f.target ?? "the model in use"} ... `);
      try {
        const res = await c.pushModel(dir, f.target ?? "");
        process.stderr.write("done\n");
        console.log(`${res.target} now runs ${res.model} (version ${res.version})`);
        return 0;
      } catch (err) {
        process.stderr.write("failed\n");
        throw err;
      }
    });
  },
};
