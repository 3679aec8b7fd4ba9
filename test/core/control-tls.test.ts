import { describe, expect, test } from "bun:test";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { connectControl, rpcMessage } from "../../client/control.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import { makeCerts } from "../harness/certs.ts";
import { TempDir, quietLog } from "./util.ts";

describe("control API over TCP with mTLS", () => {
  test("only clients with a certificate from the configured CA get in", async () => {
    using dir = new TempDir();
    makeCerts(dir);
    const r = checkConfig(
      {
        control: {
          socket: dir.file("ctl.sock"),
          tcp: { listen: "127.0.0.1:0", tls: { cert: dir.file("server.crt"), key: dir.file("server.key"), client_ca: dir.file("ca.crt") } },
        },
        plugins: [{ id: "kernel-mlp", kind: "model", builtin: "kernel" }],
      },
      builtinCatalog,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const agent = await Agent.start(r.config, { ...builtins, dataplane: new MemoryDataPlane(), log: quietLog });
    const address = agent.controlTcp!;
    const clients = {
      plain: connectControl({ address, timeoutMs: 2_000 }),
      noCert: connectControl({ address, tls: { ca: dir.file("ca.crt"), serverName: "localhost" }, timeoutMs: 2_000 }),
      rogue: connectControl({ address, tls: { ca: dir.file("ca.crt"), cert: dir.file("rogue.crt"), key: dir.file("rogue.key"), serverName: "localhost" }, timeoutMs: 2_000 }),
      good: connectControl({ address, tls: { ca: dir.file("ca.crt"), cert: dir.file("client.crt"), key: dir.file("client.key"), serverName: "localhost" } }),
    };
    try {
      for (const name of ["plain", "noCert", "rogue"] as const) {
        const err = await clients[name].block("198.18.0.5").then(
          () => "accepted",
          (e: unknown) => rpcMessage(e),
        );
        expect(err).toMatch(/^UNAVAILABLE/);
      }
      expect((await agent.dataplane.listBlocked()).length).toBe(0);
      expect((await clients.good.block("198.18.0.5")).entry?.address).toBe("198.18.0.5");
      expect((await clients.good.listBlocked()).hosts.map((h) => h.address)).toEqual(["198.18.0.5"]);
    } finally {
      for (const c of Object.values(clients)) c.close();
      await agent.stop();
    }
  });
});
