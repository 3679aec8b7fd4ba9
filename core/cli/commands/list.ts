import type { Command } from "../command.ts";
import { CONNECTION_HELP, fmtDuration, parseWithConnection, withControl } from "../connection.ts";
import { BlockedHost } from "../../../proto/gen/xids/control/v1/control.ts";

export const command: Command = {
  name: "list",
  summary: "list blocked hosts",
  help: `usage: xids list [--json]

Lists the hosts in the running core's block list with time left, reason and dropped packets.
  --json    one JSON object per line

${CONNECTION_HELP}

example: xids list`,
  async run(args) {
    const f = parseWithConnection(args, { json: "boolean" });
    if (f._.length !== 0) {
      console.error("usage: xids list [--json]");
      return 2;
    }
    return withControl("list", f, async (c) => {
      const { hosts } = await c.listBlocked();
      if (f.json) {
        for (const h of hosts) console.log(JSON.stringify(BlockedHost.toJSON(h)));
        return 0;
      }
      if (hosts.length === 0) {
        console.log("no blocked hosts");
        return 0;
      }
      const w = Math.max(7, ...hosts.map((h) => h.address.length));
      console.log(`${"ADDRESS".padEnd(w)}  ${"EXPIRES".padEnd(9)}  REASON  HITS`);
      for (const h of hosts) console.log(`${h.address.padEnd(w)}  ${fmtDuration(h.expiresInMs).padEnd(9)}  ${String(h.reason).padEnd(6)}  ${h.hits}`);
      return 0;
    });
  },
};
