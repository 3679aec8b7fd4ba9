import type { Command } from "../command.ts";
import { parseFlags } from "../args.ts";
import { configJsonSchema } from "../../config/json-schema.ts";

export const command: Command = {
  name: "config schema",
  summary: "print the configuration's JSON Schema (for editors)",
  help: `usage: xids config schema

Prints the JSON Schema (draft 2020-12) of the YAML configuration, built-in plugins' config
sections included. core/config/xids.schema.json is this output; point a YAML editor at it with
a first line "# yaml-language-server: $schema=<path>/xids.schema.json".

example: xids config schema > xids.schema.json`,
  async run(args, ctx) {
    parseFlags(args, {});
    console.log(JSON.stringify(configJsonSchema(ctx.catalog), null, 2));
    return 0;
  },
};
