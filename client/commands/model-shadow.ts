import { resolve } from "node:path";
import type { Command } from "../../core/cli/command.ts";
import { UsageError } from "../../core/cli/args.ts";
import { ShadowSummary } from "../../proto/gen/xids/control/v1/control.ts";
import { CONNECTION_HELP, parseWithConnection, withControl } from "../connection.ts";
import { formatShadowSummary } from "../shadow-summary.ts";

const USAGE = "usage: xids model shadow <artifact-dir> | --report [--flows <n>] | --stop   [--json]";

export const command: Command = {
  name: "model shadow",
  summary: "run a candidate model beside the active one on live flows; report how they differ",
  help: `${USAGE}

<artifact-dir>  the running core judges every flow the pipeline gives a verdict with this
                candidate too (user space, its reference implementation) and acts on nothing;
                it replaces a candidate already under shadow
--report        agreement with the pipeline, the differing flows (the newest 256 are kept),
                and the sources the block policy (pipeline.block) would have blocked on the
                candidate's verdicts and not on the pipeline's, and the reverse
  --flows <n>   show only the newest n differing flows
--stop          end the shadow and print its last report
--json          print the report as JSON
Promote the candidate with xids model promote.

${CONNECTION_HELP}

example: xids model shadow models/artifacts/dt && xids model shadow --report`,
  async run(args) {
    const f = parseWithConnection(args, { report: "boolean", stop: "boolean", flows: "number", json: "boolean" });
    const modes = [f._.length > 0, f.report === true, f.stop === true].filter(Boolean).length;
    if (modes !== 1 || f._.length > 1) throw new UsageError(`expected one artifact folder, --report or --stop\n${USAGE}`);
    if (f.flows !== undefined && (!f.report || !Number.isInteger(f.flows) || f.flows < 1)) throw new UsageError("--flows: expected a whole number >= 1, with --report");
    return withControl("model shadow", f, async (c) => {
      const s = f.report ? await c.shadowReport(f.flows ?? 0) : f.stop ? await c.shadowStop() : await c.shadowStart(resolve(f._[0]!));
      if (f.json) console.log(JSON.stringify(ShadowSummary.toJSON(s)));
      else if (f._.length > 0) console.log(`shadowing ${s.candidate} (${s.artifactPath}) beside ${s.activeModel || "the pipeline"}; see xids model shadow --report`);
      else console.log(formatShadowSummary(s));
      return 0;
    });
  },
};
