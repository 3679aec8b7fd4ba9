// The block list over the control API at scale: 100k blocked hosts in a real kernel data plane (XDP
// on a veth in a test namespace). ListBlocked answers one page (an old client's empty request: the
// first 1,000, far under gRPC's 4 MB message limit) with the list's total and the matching count,
// pages and searches like GET /api/blocked, refuses bad values as INVALID_ARGUMENT naming the
// field; the real CLI prints "N of M" and `xids list --all` returns every entry, in order.
import { describe, expect, test } from "bun:test";
import { twoHosts } from "../harness/netns.ts";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { connectControl } from "../../client/control.ts";
import { ListBlockedResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { TempDir, quietLog, xids } from "../core/util.ts";

const V4_HOSTS = 100_000;
const V6_HOSTS = 12;
const TOTAL = V4_HOSTS + V6_HOSTS;
// 198.18.16.0 onwards: clear of the test hosts' own 198.18.0.x.
const v4 = (i: number) => { const n = 16 * 256 + i; return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`; };
const v6 = (i: number) => `2001:2::ab:${(i + 1).toString(16)}`;

describe("ListBlocked and xids list at scale", () => {
  test("100k blocked hosts: small pages with totals, search, INVALID_ARGUMENT by field, `xids list --all` returns every entry", async () => {
    using hosts = twoHosts();
    using dir = new TempDir();
    const sock = dir.file("ctl.sock");
    const r = checkConfig(
      { dataplane: { interfaces: ["eth0"], netns: hosts.server.name, block_entries: 131_072, state_dir: dir.file("state") }, plugins: [], control: { socket: sock } },
      builtinCatalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const agent = await Agent.start(r.config, { ...builtins, log: quietLog, catalog: builtinCatalog });
    const c = connectControl({ socket: sock, timeoutMs: 10_000 });
    try {
      const kernel = agent.dataplane.kernel!;
      for (let i = 0; i < V4_HOSTS; i++) kernel.block(v4(i), { reason: i % 4, ttlNs: i % 2 ? 600_000_000_000n : 0n });
      for (let i = 0; i < V6_HOSTS; i++) kernel.block(v6(i), { reason: 3 });
      expect(kernel.blockListUse().entries).toBe(TOTAL);
      const sorted = [...Array.from({ length: V4_HOSTS }, (_, i) => v4(i)), ...Array.from({ length: V6_HOSTS }, (_, i) => v6(i))];

      // 1. An empty request (what an old client sends): the first page and the totals, a small message.
      const first = await c.listBlocked();
      expect([first.total, first.matching, first.offset, first.limit, first.hosts.length]).toEqual([TOTAL, TOTAL, 0, 1_000, 1_000]);
      expect(first.hosts.map((h) => h.address)).toEqual(sorted.slice(0, 1_000));
      const bytes = ListBlockedResponse.encode(first).finish().length;
      console.log(`ListBlocked, empty request: ${first.hosts.length} of ${first.total} hosts in ${bytes} bytes`);
      expect(bytes).toBeLessThan(64 * 1024);
      // The largest page is still far under gRPC's default 4 MB limit.
      const big = await c.listBlocked({ offset: 50_000, limit: 10_000 });
      expect(big.hosts.map((h) => h.address)).toEqual(sorted.slice(50_000, 60_000));
      expect(ListBlockedResponse.encode(big).finish().length).toBeLessThan(1024 * 1024);
      const e = big.hosts.find((h) => h.address === v4(50_001))!;
      expect([e.reason, e.expiresInMs > 500_000, e.expiresInMs <= 600_000]).toEqual([1, true, true]);
      expect(big.hosts.find((h) => h.address === v4(50_000))!.expiresInMs).toBe(0); // permanent

      // 2. The tail, past the end, and a search by part of an address (IPv6 in any case).
      expect((await c.listBlocked({ offset: TOTAL - 7 })).hosts.map((h) => h.address)).toEqual(sorted.slice(TOTAL - 7));
      expect(await c.listBlocked({ offset: TOTAL + 5 })).toMatchObject({ total: TOTAL, matching: TOTAL, hosts: [] });
      const Q = "198.19.1.";
      const want = sorted.filter((a) => a.includes(Q));
      expect(want.length).toBe(256);
      const q1 = await c.listBlocked({ q: Q, offset: 200, limit: 100 });
      expect([q1.total, q1.matching, q1.hosts.map((h) => h.address)]).toEqual([TOTAL, 256, want.slice(200)]);
      expect((await c.listBlocked({ q: "2001:2::AB:" })).hosts.map((h) => h.address)).toEqual(sorted.slice(V4_HOSTS));
      expect(await c.listBlocked({ q: "203.0.113." })).toMatchObject({ total: TOTAL, matching: 0, hosts: [] });

      // 3. Bad values: INVALID_ARGUMENT (3), the message naming the field.
      const refused = (req: { limit?: number; q?: string }) => c.listBlocked(req).then(() => null, (err: { code: number; details: string }) => [err.code, err.details]);
      expect(await refused({ limit: 10_001 })).toEqual([3, "limit: expected at most 10000 (0 = 1000), got 10001"]);
      expect(await refused({ q: "host-7" })).toEqual([3, 'q: expected part of an address (at most 64 of 0-9 a-f . :), got "host-7"']);
      expect(await refused({ q: "1".repeat(65) })).toEqual([3, expect.stringContaining("q: expected part of an address")]);

      // 4. The real CLI: "N of M", the search, and --all pages through every entry.
      const page = await xids(["list", "--socket", sock]);
      expect(page.code, page.err).toBe(0);
      expect(page.out.trimEnd().split("\n").at(-1)).toBe(`1000 of ${TOTAL} blocked hosts (1-1000)`);
      const found = await xids(["list", "--search", Q, "--offset", "10", "--limit", "5", "--socket", sock]);
      expect(found.code, found.err).toBe(0);
      const lines = found.out.trimEnd().split("\n");
      expect(lines.slice(1, -1).map((l) => l.split(/\s+/)[0])).toEqual(want.slice(10, 15));
      expect(lines.at(-1)).toBe(`5 of 256 blocked hosts matching "${Q}" (${TOTAL} blocked) (11-15)`);
      const t0 = performance.now();
      const all = await xids(["list", "--all", "--json", "--socket", sock]);
      console.log(`xids list --all --json: ${TOTAL} hosts in ${(performance.now() - t0).toFixed(0)} ms`);
      expect(all.code, all.err).toBe(0);
      const listed = all.out.trimEnd().split("\n").map((l) => JSON.parse(l) as { address: string; reason: number });
      expect(listed.length).toBe(TOTAL);
      expect(listed.map((h) => h.address)).toEqual(sorted);
      expect(all.err.trim()).toBe(`${TOTAL} of ${TOTAL} blocked hosts (1-${TOTAL})`);
      const v6only = await xids(["list", "--all", "--search", "2001:2::", "--socket", sock]);
      expect(v6only.out.trimEnd().split("\n").at(-1)).toBe(`${V6_HOSTS} of ${V6_HOSTS} blocked hosts matching "2001:2::" (${TOTAL} blocked) (1-${V6_HOSTS})`);
      // The CLI's own refusals and the server's, each naming what is wrong.
      const over = await xids(["list", "--limit", "10001", "--socket", sock]);
      expect([over.code, over.err.trim()]).toEqual([1, "xids list: INVALID_ARGUMENT: limit: expected at most 10000 (0 = 1000), got 10001"]);
      const neg = await xids(["list", "--offset=-1", "--socket", sock]);
      expect([neg.code, neg.err]).toEqual([2, expect.stringContaining("--offset: expected a whole number >= 0, got -1")]);
      const mixed = await xids(["list", "--all", "--limit", "5", "--socket", sock]);
      expect([mixed.code, mixed.err]).toEqual([2, expect.stringContaining("--all pages through every host: not with --offset or --limit")]);
    } finally {
      c.close();
      await agent.stop();
    }
  }, 120_000);
});
