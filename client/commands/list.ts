import type { Command } from "../../core/cli/command.ts";
import { UsageError } from "../../core/cli/args.ts";
import { LIST_PAGE, MAX_LIST_PAGE } from "../../core/control/validate.ts";
import { BlockedHost, type ListBlockedResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { CONNECTION_HELP, fmtDuration, parseWithConnection, withControl } from "../connection.ts";
import type { Control } from "../control.ts";

const USAGE = "usage: xids list [--offset <n>] [--limit <n>] [--search <part of an address>] [--all] [--json]";

export const command: Command = {
  name: "list",
  summary: "list blocked hosts, a page at a time",
  help: `${USAGE}

Lists the hosts in the running core's block list in address order (IPv4 numerically, then IPv6)
with time left, reason and dropped packets, one page at a time, and says how many of how many.
  --offset <n>   skip the first n hosts (of those matching --search; default 0)
  --limit <n>    at most n hosts, 1..${MAX_LIST_PAGE} (default ${LIST_PAGE})
  --search <s>   only addresses containing s (0-9 a-f . :), e.g. 198.18.4. or 2001:2::
  --all          every host (matching --search), fetched in pages of ${MAX_LIST_PAGE}
  --json         one JSON object per host per line (the "N of M" line goes to stderr)

${CONNECTION_HELP}

example: xids list --search 198.18.4. --limit 50`,
  async run(args) {
    const f = parseWithConnection(args, { json: "boolean", offset: "number", limit: "number", search: "string", all: "boolean" });
    if (f._.length !== 0) throw new UsageError(`expected no operand: ${USAGE}`);
    const offset = f.offset ?? 0, limit = f.limit ?? LIST_PAGE, q = f.search ?? "";
    // Checked here too: a number the request cannot carry must not reach the wire as garbage.
    if (!Number.isInteger(offset) || offset < 0 || offset > 0xffff_ffff) throw new UsageError(`--offset: expected a whole number >= 0, got ${offset}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > 0xffff_ffff) throw new UsageError(`--limit: expected a whole number in [1, ${MAX_LIST_PAGE}], got ${limit}`);
    if (f.all && (f.offset !== undefined || f.limit !== undefined)) throw new UsageError("--all pages through every host: not with --offset or --limit");
    return withControl("list", f, async (c) => {
      const page = f.all ? await everyPage(c, q) : await c.listBlocked({ offset, limit, q });
      print(page, q, f.json === true);
      return 0;
    });
  },
};

/** Every matching host, page after page. The list can change between pages (a block added or
 *  expired): an address seen twice is kept once, the totals are the last page's, and a page that
 *  brings nothing new ends it. */
async function everyPage(c: Control, q: string): Promise<ListBlockedResponse> {
  const seen = new Map<string, BlockedHost>();
  let last: ListBlockedResponse, before: number;
  do {
    before = seen.size;
    last = await c.listBlocked({ offset: seen.size, limit: MAX_LIST_PAGE, q });
    for (const h of last.hosts) seen.set(h.address, h);
  } while (seen.size > before && seen.size < last.matching);
  return { ...last, offset: 0, limit: seen.size, hosts: [...seen.values()] };
}

function print(p: ListBlockedResponse, q: string, json: boolean): void {
  const { hosts, total, matching, offset } = p;
  const range = hosts.length ? ` (${offset + 1}-${offset + hosts.length})` : "";
  const summary = `${hosts.length} of ${matching} blocked hosts${q ? ` matching "${q}" (${total} blocked)` : ""}${range}`;
  if (json) {
    hosts.forEach((h) => console.log(JSON.stringify(BlockedHost.toJSON(h))));
    console.error(summary);
    return;
  }
  if (hosts.length) {
    const w = hosts.reduce((m, h) => Math.max(m, h.address.length), 7);
    console.log(`${"ADDRESS".padEnd(w)}  ${"EXPIRES".padEnd(9)}  REASON  HITS`);
    for (const h of hosts) console.log(`${h.address.padEnd(w)}  ${fmtDuration(h.expiresInMs).padEnd(9)}  ${String(h.reason).padEnd(6)}  ${h.hits}`);
  }
  console.log(total === 0 ? "no blocked hosts" : summary);
}
