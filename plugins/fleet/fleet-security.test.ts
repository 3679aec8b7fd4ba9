// NATS security: a nats-server (-c) with one user per agent whose permissions let it publish
// only its own detections subject and its own status key (plus the shared block list and the
// JetStream API), and an admin. Agents authenticate with user/password (from a file, and from the
// environment); an agent that runs under another agent's user is refused when it writes that
// agent's subjects, and says so: counted (xids_fleet_writes_refused_total) and in its log. Over
// mutual TLS, an agent with a certificate from the server's CA gets in, one without does not.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { makeCerts } from "../../test/harness/certs.ts";
import { attackRecord, memoryAgent } from "../../test/harness/fleet.ts";
import { NatsServer } from "../../test/harness/nats-server.ts";
import { TempDir, waitFor, xids } from "../../test/core/util.ts";

const agentUser = (name: string) => `{
        user: ${name}, password: "${name}-secret"
        permissions: {
          publish: { allow: ["$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>", "$KV.xids-blocks.>", "$KV.xids-agents.${name}", "xids.detections.${name}"] }
          subscribe: { allow: ["_INBOX.>"] }
        }
      }`;

describe("fleet: NATS users and permissions", () => {
  test("each agent writes only its own subjects; a forbidden write is refused and reported", async () => {
    using dir = new TempDir();
    const conf = dir.file("nats.conf");
    writeFileSync(conf, `accounts {
  FLEET {
    jetstream: enabled
    users: [
      { user: admin, password: "admin-secret" }
      ${agentUser("a")}
      ${agentUser("b")}
    ]
  }
}
`);
    await using nats = await NatsServer.start({ configFile: conf });
    const pw = (name: string) => (writeFileSync(dir.file(`${name}.pw`), `${name}-secret\n`), dir.file(`${name}.pw`));

    // No credentials: refused at connect, and the CLI says why.
    const anon = await xids(["fleet", "status", "--servers", nats.url]);
    expect(anon.code).toBe(1);
    expect(anon.err).toMatch(/Authorization/i);
    // The admin sets the fleet up (the buckets and stream are created on first use).
    const admin = await xids(["fleet", "status", "--servers", nats.url, "--user", "admin", "--password-file", pw("admin")]);
    expect(admin.code).toBe(0);

    process.env.XIDS_TEST_FLEET_PW_B = "b-secret";
    const a = await memoryAgent(dir, nats, "a", { user: "a", password_file: pw("a") });
    const b = await memoryAgent(dir, nats, "b", { user: "b", password_env: "XIDS_TEST_FLEET_PW_B" });
    // "c" runs with a's user: the status key and detections subject of c are not a's to write.
    const c = await memoryAgent(dir, nats, "c", { user: "a", password_file: pw("a") });
    try {
      await waitFor("a and b in sync", () => a.fleet.link.connected && b.fleet.link.connected, 15_000, 50);
      a.agent.ingest(attackRecord("198.18.130.1", 1));
      c.agent.ingest(attackRecord("198.18.130.2", 1));
      // a's block reaches b (the shared list is everyone's); c's block too, its detection does not.
      await waitFor("b applies both blocks", () => ["198.18.130.1", "198.18.130.2"].every((s) => b.dp.listBlocked().some((e) => e.address === s)), 10_000, 50);
      await waitFor("c's refused writes counted", () => c.fleet.outbox.stats.refused >= 1 && c.fleet.heartbeat.stats.refused >= 1, 10_000, 50);
      expect((await c.agent.metrics()).text).toMatch(/xids_fleet_writes_refused_total\{plugin="fleet"\} [1-9]/);
      expect(a.fleet.outbox.stats.refused + a.fleet.heartbeat.stats.refused).toBe(0);
      expect(b.fleet.outbox.stats.refused + b.fleet.heartbeat.stats.refused).toBe(0);

      // The same rule seen from a client with a's user: its own subjects yes, b's no.
      const nc = await connect({ servers: nats.url, user: "a", pass: "a-secret" });
      try {
        const js = jetstream(nc);
        expect((await js.publish("xids.detections.a", "{}")).stream).toBe("xids-detections");
        await expect(js.publish("xids.detections.b", "{}")).rejects.toThrow(/Permissions Violation for Publish/);
        const agents = await new Kvm(js).open("xids-agents");
        await agents.put("a", JSON.stringify(a.fleet.status("running")));
        await expect(agents.put("b", JSON.stringify({ agent: "b" }))).rejects.toThrow(/Permissions Violation for Publish/);
      } finally {
        await nc.close();
      }
      // What the status shows: a and b, never c (its writes were refused).
      const st = await xids(["fleet", "status", "--json", "--servers", nats.url, "--user", "admin", "--password-file", pw("admin")]);
      expect((JSON.parse(st.out) as { agents: { agent: string }[] }).agents.map((r) => r.agent)).toEqual(["a", "b"]);
      expect(st.out + st.err).not.toContain("secret");
    } finally {
      for (const x of [a, b, c]) await x.agent.stop();
      delete process.env.XIDS_TEST_FLEET_PW_B;
    }
  }, 60_000);

  test("mutual TLS: a certificate from the server's CA gets in, any other is refused and the reason shown", async () => {
    using dir = new TempDir();
    makeCerts(dir);
    const conf = dir.file("nats.conf");
    writeFileSync(conf, `tls { cert_file: "${dir.file("server.crt")}", key_file: "${dir.file("server.key")}", ca_file: "${dir.file("ca.crt")}", verify: true }\n`);
    await using nats = await NatsServer.start({ configFile: conf });
    const servers = [`tls://localhost:${nats.port}`];
    const good = await memoryAgent(dir, nats, "good", { servers, tls: { ca: dir.file("ca.crt"), cert: dir.file("client.crt"), key: dir.file("client.key") } });
    const rogue = await memoryAgent(dir, nats, "rogue", { servers, tls: { ca: dir.file("ca.crt"), cert: dir.file("rogue.crt"), key: dir.file("rogue.key") } });
    try {
      await waitFor("the agent with the CA's certificate in sync", () => good.fleet.link.connected, 15_000, 50);
      await waitFor("the rogue agent degraded", () => rogue.agent.control.status().plugins.find((p) => p.id === "fleet")?.state === "degraded", 10_000, 50);
      await waitFor("the refusal's reason", () => /connect to tls:\/\/localhost:\d+: ./.test(rogue.fleet.link.reason), 15_000, 50);
      expect(rogue.fleet.link.connected).toBe(false);
    } finally {
      await good.agent.stop();
      await rogue.agent.stop();
    }
  }, 60_000);
});
