import type { Command } from "../command.ts";
import { parseFlags, UsageError } from "../args.ts";
import { ConfigError, loadConfigFile } from "../../config/load.ts";
import { maskSecrets } from "../../util/secrets.ts";

export const command: Command = {
  name: "config check",
  summary: "validate a configuration file",
  help: `usage: xids config check <file> [--print]

Checks a YAML configuration against the schema (including every plugin's own config). Each
problem is printed as file:line:col: path: what was expected, got what. Exit code 1 if any.
  --print   print the effective configuration (defaults filled in) as JSON, secrets as "***"

example: xids config check core/config/xids.example.yaml`,
  async run(args, ctx) {
    const f = parseFlags(args, { print: "boolean" });
    if (f._.length !== 1) throw new UsageError("expected one file: xids config check <file> [--print]");
    try {
      const cfg = loadConfigFile(f._[0]!, ctx.catalog);
      const enabled = cfg.plugins.filter((p) => p.enabled);
      console.log(
        `${f._[0]}: ok (${enabled.length} plugin(s): ${enabled.map((p) => `${p.id}[${p.kind}${p.external ? ", external" : ""}]`).join(", ")}; interfaces ${cfg.dataplane.interfaces.join(",") || "none"})`,
      );
      if (f.print) console.log(JSON.stringify(maskSecrets(cfg), null, 2));
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(err.message);
      return 1;
    }
  },
};
