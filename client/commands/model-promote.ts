import { resolve } from "node:path";
import type { Command } from "../../core/cli/command.ts";
import { UsageError } from "../../core/cli/args.ts";
import { ShadowPromoteResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { CONNECTION_HELP, parseWithConnection, withControl } from "../connection.ts";
import { formatShadowSummary } from "../shadow-summary.ts";

export const command: Command = {
  name: "model promote",
  summary: "make the model under shadow the active one (checked hot update)",
  help: `usage: xids model promote [<artifact-dir>] [--json]

Hot-updates the model in use (the first of pipeline.models) with the artifact under shadow
(xids model shadow), through the same checks and swap as xids model push, and ends the shadow.
Refused, changing nothing, if no shadow runs, if <artifact-dir> is given and is not the one under
shadow, or if the artifact's files changed since its shadow started. Prints the shadow's last
report, then what now runs.
  --json    print the answer (the push and the report) as JSON

${CONNECTION_HELP}

example: xids model promote models/artifacts/dt`,
  async run(args) {
    const f = parseWithConnection(args, { json: "boolean" });
    if (f._.length > 1) throw new UsageError("expected at most one artifact folder: xids model promote [<artifact-dir>]");
    return withControl("model promote", f, async (c) => {
      const res = await c.shadowPromote(f._[0] ? resolve(f._[0]) : "");
      if (f.json) return (console.log(JSON.stringify(ShadowPromoteResponse.toJSON(res))), 0);
      console.log(formatShadowSummary(res.report!));
      console.log(`\n${res.pushed!.target} now runs ${res.pushed!.model} (version ${res.pushed!.version})`);
      return 0;
    });
  },
};
