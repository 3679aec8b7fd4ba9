import type { Command } from "../command.ts";
import { CONNECTION_HELP, parseWithConnection, withControl } from "../connection.ts";

export const command: Command = {
  name: "allow",
  summary: "add a CIDR to the allow list (never blocked)",
  help: `usage: xids allow <cidr>

Adds an IPv4/IPv6 CIDR (or a host address) to the running core's allow list: matching
sources are never dropped, and every block inside it is lifted (the answer says how many).

${CONNECTION_HELP}

example: xids allow 198.18.0.0/24`,
  async run(args) {
    const f = parseWithConnection(args, {});
    if (f._.length !== 1) {
      console.error("usage: xids allow <cidr>");
      return 2;
    }
    return withControl("allow", f, async (c) => {
      const res = await c.allow(f._[0]!);
      console.log(`allowed ${res.cidr}${res.unblocked ? ` (lifted ${res.unblocked} block${res.unblocked === 1 ? "" : "s"})` : ""}`);
      return 0;
    });
  },
};
