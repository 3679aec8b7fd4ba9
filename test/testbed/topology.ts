// The demo's network: a victim protected by xids, a benign client and an attacker, each in its
// own namespace, joined to the victim by one veth pair each (addresses from 198.18.0.0/15).
// XDP runs on the victim's side of both links, so everything the victim receives passes it.
import { createVethPair, Netns, setNamePrefix } from "../harness/netns.ts";

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

/** One host of the star: its own namespace and its own link to the victim. */
export interface StarHost {
  id: string;
  ns: Netns;
  ip: string;
  /** The victim's address on this host's link. */
  victimIp: string;
  /** The victim-side interface of the link (where XDP runs). */
  victimIface: string;
}

export interface StarTopology extends Disposable {
  victim: Netns;
  hosts: StarHost[];
  victimIfaces: string[];
}

/** The most hosts a star can have: link i uses 198.18.(10+i).0/24. */
export const MAX_STAR_HOSTS = 200;

function disableIpv6(ns: Netns): void {
  // No IPv6 link-local chatter (router solicitations, MLD): every flow the victim sees comes
  // from a host's IPv4 address, which is what labels it.
  for (const key of ["all", "default"]) ns.execSync(["sysctl", "-qw", `net.ipv6.conf.${key}.disable_ipv6=1`]);
}

/**
 * The testbed's network: a victim and one namespace per host id, each host on its own veth link
 * and /24 (198.18.(10+i).0/24: the host is .2, the victim .1), so a flow's source address says
 * which host, and so which scenario, sent it.
 */
export function buildStar(ids: string[], prefix = "xidsd"): StarTopology {
  if (ids.length === 0 || ids.length > MAX_STAR_HOSTS) throw new RangeError(`a star needs 1..${MAX_STAR_HOSTS} hosts, got ${ids.length}`);
  if (new Set(ids).size !== ids.length) throw new Error(`host ids must be unique: ${ids.join(", ")}`);
  setNamePrefix(prefix);
  const made: Netns[] = [];
  const close = () => {
    for (const ns of made.reverse()) ns.close();
  };
  try {
    const victim = Netns.create("v");
    made.push(victim);
    disableIpv6(victim);
    const hosts: StarHost[] = ids.map((id, i) => {
      const ns = Netns.create("h");
      made.push(ns);
      disableIpv6(ns);
      const net = `198.18.${10 + i}`;
      const victimIface = `h${i}`;
      createVethPair({ ns: victim, ifname: victimIface, addrs: [`${net}.1/24`] }, { ns, ifname: "eth0", addrs: [`${net}.2/24`] });
      return { id, ns, ip: `${net}.2`, victimIp: `${net}.1`, victimIface };
    });
    return { victim, hosts, victimIfaces: hosts.map((h) => h.victimIface), [Symbol.dispose]: close };
  } catch (err) {
    close();
    throw err;
  }
}
