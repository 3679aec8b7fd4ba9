// The fleet on real data planes: three `xids run` agents, each with XDP attached to its own
// namespace pair and the in-kernel one-split tree, joined to a real nats-server. A source that
// attacks one host is blocked by that host's kernel; the block reaches the fleet's list and the
// other two drop that source's real packets. Unblock and allow propagate the same way. A SIEM's
// durable consumer reads every agent's detections from the stream.
import { describe, expect, test } from "bun:test";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { FleetHost } from "../../test/harness/fleet.ts";
import { NatsServer } from "../../test/harness/nats-server.ts";
import { TempDir, waitFor, xids } from "../../test/core/util.ts";

const S4 = "198.18.100.1"; // attacks a
const S6 = "2001:2:0:100::1"; // attacks a over IPv6
const T4 = "198.18.101.1"; // blocked by the operator, inside the allow later

describe("fleet: blocks across real XDP data planes", () => {
  test("a block decided on one agent drops the source's packets on the others; unblock and allow propagate", async () => {
    await using nats = await NatsServer.start();
    using dir = new TempDir();
    const hosts = ["a", "b", "c"].map((n, i) => new FleetHost(n, i, dir, nats, [S4, S6, T4]));
    const [a, b, c] = hosts as [FleetHost, FleetHost, FleetHost];
    const cli = (...args: string[]) => xids(["fleet", ...args, "--servers", nats.url]);
    const everyone = (what: string, fn: (h: FleetHost) => Promise<boolean>, on = hosts) =>
      waitFor(what, async () => (await Promise.all(on.map(fn))).every(Boolean), 10_000, 50);
    try {
      for (const h of hosts) h.start();
      await Promise.all(hosts.map((h) => h.ready()));
      expect(await b.reaches(S4)).toBe(true);
      expect(await b.reaches(S6)).toBe(true);
      // The SIEM: a durable consumer on the stream the agents created.
      const siem = await connect({ servers: nats.url });
      await (await jetstreamManager(siem)).consumers.add("xids-detections", { durable_name: "siem", ack_policy: AckPolicy.Explicit });

      // a's kernel blocks S4 on its first attack flow; b and c then drop S4 too.
      await a.attack(S4);
      await waitFor("a's kernel blocks S4", async () => (await a.blocked()).includes(S4), 10_000, 50);
      await everyone("b and c apply a's block of S4", async (h) => (await h.blocked()).includes(S4), [b, c]);
      expect(await b.reaches(S4)).toBe(false);
      expect(await c.reaches(S4)).toBe(false);
      const entry = (await b.c.listBlocked()).hosts.find((h) => h.address === S4)!;
      expect(entry.expiresInMs).toBeGreaterThan(280_000); // the 300 s TTL a decided, what is left of it
      expect(entry.expiresInMs).toBeLessThanOrEqual(300_000);

      // The same over IPv6 (its key in the bucket has no ':').
      await a.attack(S6);
      await everyone("b and c apply a's block of S6", async (h) => (await h.blocked()).includes(S6), [b, c]);
      expect(await c.reaches(S6)).toBe(false);

      // Both detections are on the stream, from a, with what a's kernel did.
      const consumer = await jetstream(siem).consumers.get("xids-detections", "siem");
      const seen: Record<string, unknown>[] = [];
      for (let i = 0; i < 2; i++) {
        const m = await consumer.next({ expires: 5_000 });
        expect(m).not.toBeNull();
        expect(m!.subject).toBe("xids.detections.a");
        seen.push(m!.json());
        m!.ack();
      }
      expect(seen.map((d) => [d.agent, d.src_ip, (d.action as { type: string }).type]).sort()).toEqual([["a", S6, "kernel-blocked"], ["a", S4, "kernel-blocked"]].sort());
      await siem.close();

      // Unblock: gone everywhere, the deciding agent included, and S4 reaches b again.
      const un = await cli("unblock", S4);
      expect(un.err).toBe("");
      expect(un.code).toBe(0);
      await everyone("S4 lifted everywhere", async (h) => !(await h.blocked()).includes(S4));
      expect(await b.reaches(S4)).toBe(true);

      // An operator block, then an allow over it: the allow wins everywhere.
      expect((await cli("block", T4, "--ttl", "600")).code).toBe(0);
      await everyone("T4 blocked everywhere", async (h) => (await h.blocked()).includes(T4));
      expect(await c.reaches(T4)).toBe(false);
      const allow = await cli("allow", "198.18.101.0/24");
      expect(allow.out).toContain("allowed 198.18.101.0/24 fleet-wide; 1 fleet block(s) inside it deleted");
      await everyone("T4 lifted by the allow", async (h) => !(await h.blocked()).includes(T4));
      expect(await c.reaches(T4)).toBe(true);
      // A new attack from inside the allow is not blocked there, so nothing reaches the fleet.
      await b.attack(T4, 1);
      await Bun.sleep(1_500);
      for (const h of hosts) expect(await h.blocked()).not.toContain(T4);
      const refused = await cli("block", T4);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain("inside the fleet's allow 198.18.101.0/24");
    } finally {
      for (const h of hosts) await h.close();
    }
  }, 90_000);
});
