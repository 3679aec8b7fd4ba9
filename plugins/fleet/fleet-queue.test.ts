// The fleet link's own rules, on a real agent (in this process, in-memory data plane) and a real
// nats-server: with NATS unreachable from the start the agent runs degraded, protects locally,
// queues what it must publish up to queue_size and counts the rest, and delivers the queue once
// NATS is there; bucket entries that expired are never applied (and are removed), a running one
// is applied for the time it has left, a malformed one is counted and ignored.
import { describe, expect, test } from "bun:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { attackRecord, memoryAgent } from "../../test/harness/fleet.ts";
import { NatsServer } from "../../test/harness/nats-server.ts";
import { TempDir, waitFor } from "../../test/core/util.ts";

describe("fleet: queue, expiry and bad entries", () => {
  test("NATS down at start: degraded, bounded queue with the overflow counted, delivered when NATS comes", async () => {
    await using nats = await NatsServer.start();
    await nats.stop();
    using dir = new TempDir();
    const a = await memoryAgent(dir, nats, "a", { queue_size: 2 });
    try {
      const sources = ["198.18.140.1", "198.18.140.2", "198.18.140.3", "198.18.140.4"];
      sources.forEach((s, i) => a.agent.ingest(attackRecord(s, i + 1)));
      await a.agent.whenIdle();
      // Protected locally at once, whatever NATS does.
      await waitFor("local blocks", () => sources.every((s) => a.dp.listBlocked().some((e) => e.address === s)), 5_000, 20);
      await waitFor("the overflow counted", () => a.fleet.outbox.stats.dropped === 4, 5_000, 20); // 2 blocks + 2 detections over the limit
      expect(a.fleet.outbox.queued).toBe(4);
      await waitFor("degraded in status", () => a.agent.control.status().state === "degraded", 5_000, 50);
      expect(a.agent.control.status().plugins.find((p) => p.id === "fleet")!.lastError).toMatch(/fleet connecting: connect to nats:\/\/127\.0\.0\.1:\d+/);
      expect((await a.agent.metrics()).text).toContain('xids_fleet_queue_dropped_total{plugin="fleet"} 4');

      await nats.start();
      await waitFor("in sync, running", () => a.fleet.link.connected && a.agent.control.status().state === "running", 15_000, 50);
      await waitFor("queue delivered", () => a.fleet.outbox.queued === 0, 5_000, 20);
      const nc = await connect({ servers: nats.url });
      try {
        const blocks = await new Kvm(nc).open("xids-blocks");
        const keys: string[] = [];
        for await (const k of await blocks.keys()) keys.push(k);
        expect(keys.sort()).toEqual(sources.slice(0, 2));
        const rec = (await blocks.get(sources[0]!))!.json<Record<string, unknown>>();
        expect([rec.source, rec.agent, rec.code]).toEqual([sources[0], "a", 1]);
        expect((rec.expires_at_ms as number) - (rec.at_ms as number)).toBeLessThanOrEqual(300_000);
        const info = await (await jetstreamManager(nc)).streams.info("xids-detections");
        expect(info.state.messages).toBe(2);
      } finally {
        await nc.close();
      }
    } finally {
      await a.agent.stop();
    }
  }, 60_000);

  test("expired entries are never applied and are removed; a running one gets what is left; bad ones are counted", async () => {
    await using nats = await NatsServer.start();
    using dir = new TempDir();
    const nc = await connect({ servers: nats.url });
    const a = await memoryAgent(dir, nats, "a");
    try {
      await waitFor("a in sync", () => a.fleet.link.connected, 15_000, 20);
      const blocks = await new Kvm(jetstream(nc)).open("xids-blocks");
      const now = Date.now();
      await blocks.put("198.18.150.1", JSON.stringify({ source: "198.18.150.1", reason: "old", code: 2, expires_at_ms: now - 1_000, agent: "a", at_ms: now - 60_000 }));
      await blocks.put("198.18.150.2", JSON.stringify({ source: "198.18.150.2", reason: "t", code: 3, expires_at_ms: now + 20_000, agent: "z", at_ms: now }));
      await blocks.put("2001_2_0_150__3", JSON.stringify({ source: "2001:2:0:150::3", reason: "p", code: 0, expires_at_ms: 0, agent: "z", at_ms: now }));
      await blocks.put("198.18.150.4", "not json");
      await blocks.put("198.18.150.5", JSON.stringify({ source: "198.18.150.6", expires_at_ms: 0 }));
      await waitFor("the running blocks applied", () => a.dp.listBlocked().length === 2, 5_000, 20);
      const [v4, v6] = a.dp.listBlocked();
      expect([v4!.address, v4!.reason, v6!.address, v6!.expiresInMs]).toEqual(["198.18.150.2", 3, "2001:2:0:150::3", 0]);
      expect(v4!.expiresInMs).toBeLessThanOrEqual(21_000); // what is left, rounded up to the second
      expect(v4!.expiresInMs).toBeGreaterThan(15_000);
      await waitFor("both bad entries counted", () => a.fleet.blocks.stats.invalid === 2, 5_000, 20);
      // The expired one (a's own) leaves the bucket.
      await waitFor("the expired entry removed", async () => (await blocks.get("198.18.150.1"))?.operation === "DEL", 5_000, 50);
      expect(a.dp.listBlocked().map((e) => e.address)).not.toContain("198.18.150.1");
    } finally {
      await a.agent.stop();
      await nc.close();
    }
  }, 60_000);
});
