import { controlVerb, fmtDuration } from "../connection.ts";
import { BlockedHost } from "../../proto/gen/xids/control/v1/control.ts";

export const command = controlVerb({
  name: "list",
  json: true,
  summary: "list blocked hosts",
  text: `Lists the hosts in the running core's block list with time left, reason and dropped packets.
  --json    one JSON object per line`,
  example: "xids list",
  async act(c, { json }) {
    const { hosts } = await c.listBlocked();
    if (json) hosts.forEach((h) => console.log(JSON.stringify(BlockedHost.toJSON(h))));
    else if (hosts.length === 0) console.log("no blocked hosts");
    else {
      const w = Math.max(7, ...hosts.map((h) => h.address.length));
      console.log(`${"ADDRESS".padEnd(w)}  ${"EXPIRES".padEnd(9)}  REASON  HITS`);
      for (const h of hosts) console.log(`${h.address.padEnd(w)}  ${fmtDuration(h.expiresInMs).padEnd(9)}  ${String(h.reason).padEnd(6)}  ${h.hits}`);
    }
    return 0;
  },
});
