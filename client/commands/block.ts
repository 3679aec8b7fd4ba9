import type { Command } from "../../core/cli/command.ts";
import { CONNECTION_HELP, fmtDuration, parseWithConnection, withControl } from "../connection.ts";
import { UsageError } from "../../core/cli/args.ts";
import { MAX_REASON, MAX_TTL_SECONDS } from "../../core/control/validate.ts";

export const command: Command = {
  name: "block",
  summary: "block a source address in the kernel (drop its packets)",
  help: `usage: xids block <address> [--ttl <seconds>] [--reason <0-15>]

Blocks an IPv4 or IPv6 host address in the running core's XDP block list.
  --ttl <s>       seconds until the block expires (default 0 = permanent)
  --reason <n>    reason code 0..15, drops are counted per reason (default 0)

${CONNECTION_HELP}

example: xids block 198.18.0.9 --ttl 600 --reason 3`,
  async run(args) {
    const f = parseWithConnection(args, { ttl: "number", reason: "number" });
    if (f._.length !== 1) throw new UsageError("expected one address: xids block <address> [--ttl <seconds>] [--reason <0-15>]");
    // Checked here too: a number the request cannot carry must not reach the wire as garbage.
    const ttl = f.ttl ?? 0, reason = f.reason ?? 0;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) throw new UsageError(`--ttl: expected whole seconds in [0, ${MAX_TTL_SECONDS}] (one year; 0 = permanent), got ${ttl}`);
    if (!Number.isInteger(reason) || reason < 0 || reason > MAX_REASON) throw new UsageError(`--reason: expected an integer in [0, ${MAX_REASON}], got ${reason}`);
    return withControl("block", f, async (c) => {
      const res = await c.block(f._[0]!, ttl, reason);
      const e = res.entry!;
      console.log(`blocked ${e.address} (${fmtDuration(e.expiresInMs)}, reason ${e.reason})`);
      return 0;
    });
  },
};
