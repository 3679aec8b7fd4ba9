// `xids fleet block ADDR`: a block in the fleet's list, applied by every agent. Refused when an
// allow covers the address (an allow always wins) or it is never a source to block.
import { UsageError } from "../../../core/cli/args.ts";
import type { Command } from "../../../core/cli/command.ts";
import { MAX_REASON, MAX_TTL_SECONDS } from "../../../core/control/validate.ts";
import { cidrContains, neverBlockReason, parseCidr, type Cidr } from "../../../core/util/net.ts";
import { fromKey, keyOf } from "../names.ts";
import { encodeJson, type BlockRecord } from "../records.ts";
import { addressArg, FLEET_CONNECTION_HELP, parseFleetFlags, withFleet } from "./connect.ts";

export const command: Command = {
  name: "fleet block",
  summary: "block a source on every agent of the fleet",
  help: `usage: xids fleet block <address> [--ttl <s>] [--reason <text>] [--code <0-15>] (--servers ... | --config <file>)

Writes the block to the fleet's block list; every agent applies it to its kernel block list
(for the time it has left) within about a second.
  --ttl <s>        seconds until it expires everywhere (default 0 = permanent)
  --reason <text>  why, for the operators (default "operator")
  --code <n>       the block list's reason code, drops are counted per code (default 0)

${FLEET_CONNECTION_HELP}

example: xids fleet block 198.18.0.9 --ttl 600 --reason "port scan" --servers nats://10.0.0.5:4222`,
  async run(args, ctx) {
    const f = parseFleetFlags(args, { ttl: "number", reason: "string", code: "number" });
    const addr = addressArg(f);
    const ttl = f.ttl ?? 0, code = f.code ?? 0;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) throw new UsageError(`--ttl: expected whole seconds in [0, ${MAX_TTL_SECONDS}] (0 = permanent), got ${ttl}`);
    if (!Number.isInteger(code) || code < 0 || code > MAX_REASON) throw new UsageError(`--code: expected an integer in [0, ${MAX_REASON}], got ${code}`);
    const never = neverBlockReason(addr);
    if (never) throw new UsageError(`${addr.text} is ${never} and is never blocked`);
    return withFleet("block", f, ctx, async ({ stores }) => {
      for await (const key of await stores.allows.keys()) {
        const c = parseCidr(fromKey(key));
        if (!("error" in c) && cidrContains(c as Cidr, addr)) {
          console.error(`xids fleet block: ${addr.text} is inside the fleet's allow ${c.cidr}, and an allow always wins: disallow it first`);
          return 1;
        }
      }
      const now = Date.now();
      const record: BlockRecord = { source: addr.text, reason: f.reason ?? "operator", code, expires_at_ms: ttl ? now + ttl * 1000 : 0, agent: "cli", at_ms: now };
      await stores.blocks.put(keyOf(addr.text), encodeJson(record));
      console.log(`blocked ${addr.text} fleet-wide (${ttl ? `${ttl} s` : "permanent"}, code ${code})`);
      return 0;
    });
  },
};
