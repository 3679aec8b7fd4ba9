// The demo's network: a victim protected by xids, a benign client and an attacker, each in its
// own namespace, joined to the victim by one veth pair each (addresses from 198.18.0.0/15).
// XDP runs on the victim's side of both links, so everything the victim receives passes it.
import { createVethPair, Netns, setNamePrefix } from "../netns/netns.ts";

export interface Host {
  ns: Netns;
  ip: string;
}

export interface Topology extends Disposable {
  victim: Netns;
  client: Host;
  attacker: Host;
  /** The victim's address as each peer sees it. */
  victimIpFor: { client: string; attacker: string };
  /** The victim-side interfaces to protect. */
  victimIfaces: string[];
}

export function buildTopology(prefix = "xidsd"): Topology {
  setNamePrefix(prefix);
  const made: Netns[] = [];
  try {
    const victim = Netns.create("v");
    made.push(victim);
    const client = Netns.create("c");
    made.push(client);
    const attacker = Netns.create("a");
    made.push(attacker);
    createVethPair({ ns: victim, ifname: "to-client", addrs: ["198.18.1.1/24"] }, { ns: client, ifname: "eth0", addrs: ["198.18.1.2/24"] });
    createVethPair({ ns: victim, ifname: "to-attacker", addrs: ["198.18.2.1/24"] }, { ns: attacker, ifname: "eth0", addrs: ["198.18.2.2/24"] });
    return {
      victim,
      client: { ns: client, ip: "198.18.1.2" },
      attacker: { ns: attacker, ip: "198.18.2.2" },
      victimIpFor: { client: "198.18.1.1", attacker: "198.18.2.1" },
      victimIfaces: ["to-client", "to-attacker"],
      [Symbol.dispose]() {
        for (const ns of made.reverse()) ns.close();
      },
    };
  } catch (err) {
    for (const ns of made.reverse()) ns.close();
    throw err;
  }
}
