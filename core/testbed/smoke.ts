// The interim demo: loads the data plane, attaches it in native XDP mode to a victim namespace,
// drives bounded real traffic from a client and an attacker, blocks the attacker, and reports
// the kernel's counters and flow records. (The full testbed with real services and attack tools
// replaces this run.)
import { DataPlane } from "../dataplane/dataplane.ts";
import { XdpLink } from "../../native/index.ts";
import { buildTopology } from "./topology.ts";

export interface SmokeSummary {
  xdp_mode: string;
  flows: number;
  client_reachable_before_block: boolean;
  attacker_reachable_before_block: boolean;
  attacker_reachable_after_block: boolean;
  client_reachable_after_block: boolean;
  counters: Record<string, number>;
}

async function reachable(ns: { exec: (a: string[], o?: object) => Promise<{ code: number }> }, ip: string): Promise<boolean> {
  return (await ns.exec(["ping", "-c", "2", "-i", "0.2", "-W", "1", ip], { allowFail: true, timeoutMs: 10_000 })).code === 0;
}

/** A bounded TCP conversation: one request line to a short-lived listener on the victim. */
async function tcpRequest(topo: ReturnType<typeof buildTopology>, from: "client" | "attacker", port: number): Promise<void> {
  const server = topo.victim.spawn(["timeout", "3", "nc", "-l", "-p", String(port)]);
  try {
    await Bun.sleep(150);
    await topo[from].ns.exec(["nc", "-N", "-w", "1", topo.victimIpFor[from], String(port)], { stdin: "GET / HTTP/1.0\r\n\r\n", allowFail: true, timeoutMs: 5_000 });
  } finally {
    server.kill("SIGKILL");
  }
}

export async function runSmoke(log: (line: string) => void): Promise<SmokeSummary> {
  using topo = buildTopology();
  using dp = DataPlane.load();
  const links = topo.victimIfaces.map((ifname) => XdpLink.attach(dp.xdp, { ifname, netns: topo.victim.path, mode: "native" }));
  try {
    log(`xids attached in ${links[0]!.mode} XDP mode on the victim's ${topo.victimIfaces.join(" and ")}`);
    const clientBefore = await reachable(topo.client.ns, topo.victimIpFor.client);
    const attackerBefore = await reachable(topo.attacker.ns, topo.victimIpFor.attacker);
    for (let i = 0; i < 3; i++) await tcpRequest(topo, "client", 8080 + i);
    log("client: 3 TCP requests; attacker: a 40-port connect scan");
    await topo.attacker.ns.exec(["nc", "-z", "-w", "1", topo.victimIpFor.attacker, "1-40"], { allowFail: true, timeoutMs: 60_000 });

    dp.block(topo.attacker.ip, { reason: 1 });
    log(`blocked ${topo.attacker.ip} (reason 1)`);
    const attackerAfter = await reachable(topo.attacker.ns, topo.victimIpFor.attacker);
    const clientAfter = await reachable(topo.client.ns, topo.victimIpFor.client);

    let flows = 0;
    for (const _ of dp.events.consume()) flows++;
    flows += dp.sweep("flush", () => {});
    for (const _ of dp.events.consume()) flows++;
    const counters = Object.fromEntries(Object.entries(dp.counters()).filter(([, v]) => v > 0n).map(([k, v]) => [k, Number(v)]));
    return {
      xdp_mode: links[0]!.mode,
      flows,
      client_reachable_before_block: clientBefore,
      attacker_reachable_before_block: attackerBefore,
      attacker_reachable_after_block: attackerAfter,
      client_reachable_after_block: clientAfter,
      counters,
    };
  } finally {
    for (const l of links) l.close();
  }
}
