// `xids fleet unblock ADDR`: the block leaves the fleet's list, and every agent lifts it.
import type { Command } from "../../../core/cli/command.ts";
import { keyOf } from "../names.ts";
import { addressArg, FLEET_CONNECTION_HELP, parseFleetFlags, withFleet } from "./connect.ts";

export const command: Command = {
  name: "fleet unblock",
  summary: "lift a block on every agent of the fleet",
  help: `usage: xids fleet unblock <address> (--servers ... | --config <file>)

Deletes the address from the fleet's block list; every agent that applied the block lifts it
(an agent that is offline lifts it when it reconnects).

${FLEET_CONNECTION_HELP}

example: xids fleet unblock 198.18.0.9 --servers nats://10.0.0.5:4222`,
  async run(args, ctx) {
    const f = parseFleetFlags(args, {});
    const addr = addressArg(f);
    return withFleet("unblock", f, ctx, async ({ stores }) => {
      const key = keyOf(addr.text);
      const e = await stores.blocks.get(key);
      if (!e || e.operation !== "PUT") {
        console.error(`xids fleet unblock: ${addr.text} is not in the fleet's block list`);
        return 1;
      }
      await stores.blocks.delete(key);
      console.log(`unblocked ${addr.text} fleet-wide`);
      return 0;
    });
  },
};
