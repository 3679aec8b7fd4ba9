import type { Command } from "../command.ts";
import { CONNECTION_HELP, parseWithConnection, withControl } from "../connection.ts";

export const command: Command = {
  name: "unblock",
  summary: "remove a source address from the block list",
  help: `usage: xids unblock <address>

Removes a host from the running core's block list. Exit code 1 if it was not blocked.

${CONNECTION_HELP}

example: xids unblock 198.18.0.9`,
  async run(args) {
    const f = parseWithConnection(args, {});
    if (f._.length !== 1) {
      console.error("usage: xids unblock <address>");
      return 2;
    }
    return withControl("unblock", f, async (c) => {
      const res = await c.unblock(f._[0]!);
      console.log(res.removed ? `unblocked ${f._[0]}` : `${f._[0]} was not blocked`);
      return res.removed ? 0 : 1;
    });
  },
};
