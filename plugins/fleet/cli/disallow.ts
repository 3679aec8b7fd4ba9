// `xids fleet disallow CIDR`: the allow leaves the fleet's list; agents take it out of theirs
// (unless their own config allows it too).
import type { Command } from "../../../core/cli/command.ts";
import { keyOf } from "../names.ts";
import { cidrArg, FLEET_CONNECTION_HELP, parseFleetFlags, withFleet } from "./connect.ts";

export const command: Command = {
  name: "fleet disallow",
  summary: "remove a CIDR from the fleet's allow list",
  help: `usage: xids fleet disallow <cidr> (--servers ... | --config <file>)

Deletes the CIDR from the fleet's allow list; every agent removes the allow it took from the
fleet (an allow from its own config stays).

${FLEET_CONNECTION_HELP}

example: xids fleet disallow 198.18.7.0/24 --servers nats://10.0.0.5:4222`,
  async run(args, ctx) {
    const f = parseFleetFlags(args, {});
    const c = cidrArg(f);
    return withFleet("disallow", f, ctx, async ({ stores }) => {
      const e = await stores.allows.get(keyOf(c.cidr));
      if (!e || e.operation !== "PUT") {
        console.error(`xids fleet disallow: ${c.cidr} is not in the fleet's allow list`);
        return 1;
      }
      await stores.allows.delete(keyOf(c.cidr));
      console.log(`removed ${c.cidr} from the fleet's allow list`);
      return 0;
    });
  },
};
