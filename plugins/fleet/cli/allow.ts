// `xids fleet allow CIDR`: an allow on every agent. It wins over every block: agents lift the
// blocks inside it and never apply or write one; the fleet's blocks inside it are deleted here.
import type { Command } from "../../../core/cli/command.ts";
import { cidrContains, parseIp } from "../../../core/util/net.ts";
import { fromKey, keyOf } from "../names.ts";
import { encodeJson, type AllowRecord } from "../records.ts";
import { cidrArg, FLEET_CONNECTION_HELP, parseFleetFlags, withFleet } from "./connect.ts";

export const command: Command = {
  name: "fleet allow",
  summary: "allow a CIDR on every agent of the fleet (lifts the blocks inside it)",
  help: `usage: xids fleet allow <cidr> (--servers ... | --config <file>)

Writes the CIDR to the fleet's allow list: every agent adds it to its allow list and lifts its
blocks inside it; the fleet's blocks inside it are deleted.

${FLEET_CONNECTION_HELP}

example: xids fleet allow 198.18.7.0/24 --servers nats://10.0.0.5:4222`,
  async run(args, ctx) {
    const f = parseFleetFlags(args, {});
    const c = cidrArg(f);
    return withFleet("allow", f, ctx, async ({ stores }) => {
      const record: AllowRecord = { cidr: c.cidr, agent: "cli", at_ms: Date.now() };
      await stores.allows.put(keyOf(c.cidr), encodeJson(record));
      let lifted = 0;
      for await (const key of await stores.blocks.keys()) {
        const a = parseIp(fromKey(key));
        if (a && cidrContains(c, a)) {
          await stores.blocks.delete(key);
          lifted++;
        }
      }
      console.log(`allowed ${c.cidr} fleet-wide${lifted ? `; ${lifted} fleet block(s) inside it deleted` : ""}`);
      return 0;
    });
  },
};
