import type { Command } from "../command.ts";
import { CONNECTION_HELP, parseWithConnection, withControl } from "../connection.ts";

export const command: Command = {
  name: "disallow",
  summary: "remove a CIDR from the allow list",
  help: `usage: xids disallow <cidr>

Removes a CIDR from the running core's allow list. Exit code 1 if it was not there.

${CONNECTION_HELP}

example: xids disallow 198.18.0.0/24`,
  async run(args) {
    const f = parseWithConnection(args, {});
    if (f._.length !== 1) {
      console.error("usage: xids disallow <cidr>");
      return 2;
    }
    return withControl("disallow", f, async (c) => {
      const res = await c.disallow(f._[0]!);
      console.log(res.removed ? `disallowed ${f._[0]}` : `${f._[0]} was not in the allow list`);
      return res.removed ? 0 : 1;
    });
  },
};
