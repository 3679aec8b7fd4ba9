// Faults, on real agents with real XDP data planes: NATS stopped and started again loses no
// block, and a block decided while it was down reaches the fleet once it is back; an agent cut
// off from NATS alone (a partition, through a proxy) lifts at reconnect the block deleted while it
// was away and applies the one added; a restarted agent re-syncs from the bucket, and lifts from
// its pinned block list what the fleet lifted while it was stopped. While cut off, an agent keeps
// dropping and says it is degraded.
import { describe, expect, test } from "bun:test";
import { PinDir } from "../../test/harness/bpffs.ts";
import { FleetHost } from "../../test/harness/fleet.ts";
import { NatsServer } from "../../test/harness/nats-server.ts";
import { TcpProxy } from "../../test/harness/tcp-proxy.ts";
import { TempDir, waitFor, xids } from "../../test/core/util.ts";

const S1 = "198.18.110.1";
const S2 = "198.18.110.2"; // decided by a while NATS is down
const S3 = "198.18.110.3"; // added while b is cut off
const S4 = "198.18.110.4"; // added while b is stopped
const ATTACKERS = [S1, S2, S3, S4];

describe("fleet: faults on real XDP data planes", () => {
  test("NATS restart, a partitioned agent and a restarted agent lose no block and resurrect none", async () => {
    await using nats = await NatsServer.start();
    using dir = new TempDir();
    using proxy = new TcpProxy(nats.port);
    using pins = new PinDir("fleet");
    const a = new FleetHost("a", 0, dir, nats, ATTACKERS);
    const b = new FleetHost("b", 1, dir, nats, ATTACKERS, { servers: [proxy.url] }, pins.path);
    const cli = (...args: string[]) => xids(["fleet", ...args, "--servers", nats.url]);
    const has = (h: FleetHost, addr: string) => waitFor(`${h.name} blocks ${addr}`, async () => (await h.blocked()).includes(addr), 10_000, 50);
    const lacks = (h: FleetHost, addr: string) => waitFor(`${h.name} lifts ${addr}`, async () => !(await h.blocked()).includes(addr), 10_000, 50);
    const fleetState = async (h: FleetHost) => (await h.c.status()).plugins.find((p) => p.id === "fleet")!;
    try {
      a.start();
      b.start();
      await Promise.all([a.ready(), b.ready()]);
      await a.attack(S1);
      await has(b, S1);

      // NATS down: both keep dropping S1, report the fleet link degraded; a decides S2 alone.
      await nats.stop();
      await waitFor("a's fleet plugin degraded", async () => (await fleetState(a)).state === "degraded", 10_000, 100);
      expect((await a.c.status()).state).toBe("degraded");
      expect((await fleetState(a)).lastError).toContain("fleet disconnected");
      expect(await b.reaches(S1)).toBe(false);
      await a.attack(S2);
      await has(a, S2);
      // NATS back: S1 is still everywhere, S2 reaches b from a's queue.
      await nats.start();
      await Promise.all([a.ready(), b.ready()]);
      await has(b, S2);
      expect(await b.blocked()).toContain(S1);
      expect(await b.reaches(S2)).toBe(false);

      // b alone cut off: S1 deleted and S3 added meanwhile; b catches up at reconnect.
      proxy.cut();
      await waitFor("b's fleet plugin degraded", async () => (await fleetState(b)).state === "degraded", 10_000, 100);
      expect((await cli("unblock", S1)).code).toBe(0);
      expect((await cli("block", S3, "--ttl", "600")).code).toBe(0);
      await lacks(a, S1);
      await has(a, S3);
      await Bun.sleep(500);
      expect(await b.blocked()).toContain(S1); // it cannot know yet: protection stays as it was
      proxy.restore();
      await lacks(b, S1);
      await has(b, S3);
      expect(await b.reaches(S1)).toBe(true);

      // b stopped: S4 added, S2 deleted; the restarted b has S3 and S4, not S2 (its pinned block
      // list still held S2: b had taken it from the fleet, so it lifts it).
      await b.stop();
      expect((await cli("block", S4)).code).toBe(0);
      expect((await cli("unblock", S2)).code).toBe(0);
      b.start();
      await b.ready();
      await has(b, S4);
      await has(b, S3);
      expect(await b.blocked()).not.toContain(S2);
      expect(await b.blocked()).not.toContain(S1);
      expect(await b.reaches(S4)).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);
});
