import type { Command } from "../command.ts";
import { parseFlags } from "../args.ts";

export const command: Command = {
  name: "plugins",
  summary: "list the built-in plugins (the names `builtin:` accepts)",
  help: `usage: xids plugins [--json]

Lists every built-in plugin of the catalog with its kind and what it does. Each has a folder
under plugins/ with a README (config keys, an example, its metrics). Any other plugin runs as an
external process on the plugin bus (\`external:\` in the config).
  --json    one JSON object per plugin

example: xids plugins`,
  async run(args, ctx) {
    const f = parseFlags(args, { json: "boolean" });
    const rows = ctx.catalog.names().map((name) => {
      const reg = ctx.catalog.get(name)!;
      return { name, kind: reg.kind, inline: reg.inline === true, description: reg.description };
    });
    if (f.json) {
      for (const r of rows) console.log(JSON.stringify(r));
      return 0;
    }
    const w = Math.max(4, ...rows.map((r) => r.name.length));
    console.log(`${"NAME".padEnd(w)}  KIND       DESCRIPTION`);
    for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.kind.padEnd(9)}  ${r.description}${r.inline ? " [inline]" : ""}`);
    return 0;
  },
};
