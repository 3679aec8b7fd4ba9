// The demo's network: a victim protected by xids, a benign client and an attacker, each in its
// own namespace, joined to the victim by one veth pair each (addresses from 198.18.0.0/15).
// XDP runs on the victim's side of both links, so everything the victim receives passes it.
import { createVethPair, Netns, setNamePrefix } from "../harness/netns.ts";
import { parseIp } from "../../core/util/net.ts";
import {
  LinkRelay, needsRelay, NO_CONDITION, RELAY_HOST_IFACE, RELAY_VICTIM_IFACE, validateCondition,
  type LinkCondition, type RelayStats,
} from "./link-conditions.ts";

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

/** The address family of a star's links (the demo's topology above is IPv4 only). */
export type Family = 4 | 6;

/** One host of the star: its own namespace and its own link to the victim. */
export interface StarHost {
  id: string;
  ns: Netns;
  /** The host's address on its link, in the star's family (as the data plane prints it). */
  ip: string;
  /** The victim's address on this host's link. */
  victimIp: string;
  /** The victim-side interface of the link (where XDP runs). */
  victimIface: string;
}

export interface StarTopology extends Disposable {
  family: Family;
  victim: Netns;
  hosts: StarHost[];
  victimIfaces: string[];
}

/** The most hosts a star can have: link i uses 198.18.(10+i).0/24 or 2001:2:0:(10+i)::/64. */
export const MAX_STAR_HOSTS = 200;

/**
 * The addresses of link i: 198.18.(10+i).0/24 (host .2, victim .1), or for IPv6
 * 2001:2:0:(10+i)::/64 (host ::2, victim ::1), the fourth group spelled with the same digits as
 * the IPv4 third octet (so link 0 is 2001:2:0:10::/64; the group is hex, 0x10). Texts are in
 * the data plane's canonical form (RFC 5952), which is what flow records and the block list carry.
 */
export function linkAddresses(i: number, family: Family): { host: string; victim: string; prefixLen: number } {
  if (family === 4) return { host: `198.18.${10 + i}.2`, victim: `198.18.${10 + i}.1`, prefixLen: 24 };
  const canonical = (text: string) => parseIp(text)!.text;
  return { host: canonical(`2001:2:0:${10 + i}::2`), victim: canonical(`2001:2:0:${10 + i}::1`), prefixLen: 64 };
}

/** The address plan of a star of n hosts, for logs: "198.18.10.0/24 .. 198.18.12.0/24". */
export function describeAddressPlan(n: number, family: Family): string {
  const net = (i: number) => (family === 4 ? `198.18.${10 + i}.0/24` : `2001:2:0:${10 + i}::/64`);
  return n === 1 ? net(0) : `${net(0)} .. ${net(n - 1)}`;
}

function disableIpv6(ns: Netns): void {
  for (const key of ["all", "default"]) ns.execSync(["sysctl", "-qw", `net.ipv6.conf.${key}.disable_ipv6=1`]);
}

/**
 * An IPv4 run keeps IPv6 on as a LAN host has it, with the kernel's defaults and no global
 * address: its link-local chatter (duplicate address detection, router solicitations, MLD) reaches
 * the victim like on any real link, and the data plane must never judge or block it (run.ts
 * counts those records apart). Scenario traffic is IPv4, labelled by the host's IPv4 address.
 */
function linkLocalIpv6(ns: Netns): void {
  for (const key of ["all", "default"]) ns.execSync(["sysctl", "-qw", `net.ipv6.conf.${key}.disable_ipv6=0`]);
}

/**
 * IPv6 on, with as little chatter as a host can make: no duplicate address detection (addresses
 * are usable at once; nodad on each address too) and no router solicitations (accept_ra=0). What
 * remains is neighbour discovery, mostly from the hosts' global addresses, and the odd MLD
 * report from a link-local one (run.ts counts those apart). Set before the veth ends move in: a
 * device takes its namespace's defaults then.
 */
function enableIpv6(ns: Netns): void {
  for (const key of ["all", "default"]) {
    for (const [name, value] of [["disable_ipv6", 0], ["accept_dad", 0], ["accept_ra", 0]] as const) {
      ns.execSync(["sysctl", "-qw", `net.ipv6.conf.${key}.${name}=${value}`]);
    }
  }
}

/** IPv6 on an IPv4 star: link-local chatter as on a LAN (default), or off (exact frame counts). */
export type Ipv4StarIpv6 = "link-local" | "off";

function prepare(ns: Netns, family: Family, ipv6: Ipv4StarIpv6): void {
  if (family === 6) enableIpv6(ns);
  else if (ipv6 === "link-local") linkLocalIpv6(ns);
  else disableIpv6(ns);
}

function checkIds(ids: string[]): void {
  if (ids.length === 0 || ids.length > MAX_STAR_HOSTS) throw new RangeError(`a star needs 1..${MAX_STAR_HOSTS} hosts, got ${ids.length}`);
  if (new Set(ids).size !== ids.length) throw new Error(`host ids must be unique: ${ids.join(", ")}`);
}

function checkFamily(family: number): asserts family is Family {
  if (family !== 4 && family !== 6) throw new RangeError(`a star's family is 4 or 6, got ${family}`);
}

/** Host i's namespace, joined to the victim by a plain veth pair. */
function plainHost(victim: Netns, id: string, i: number, family: Family, made: Netns[], ipv6: Ipv4StarIpv6 = "link-local"): StarHost {
  const ns = Netns.create("h");
  made.push(ns);
  prepare(ns, family, ipv6);
  const a = linkAddresses(i, family);
  const victimIface = `h${i}`;
  createVethPair({ ns: victim, ifname: victimIface, addrs: [`${a.victim}/${a.prefixLen}`] }, { ns, ifname: "eth0", addrs: [`${a.host}/${a.prefixLen}`] });
  return { id, ns, ip: a.host, victimIp: a.victim, victimIface };
}

/**
 * The testbed's network: a victim and one namespace per host id, each host on its own veth link
 * and /24 (198.18.(10+i).0/24: the host is .2, the victim .1), so a flow's source address says
 * which host, and so which scenario, sent it. With family 6 the links carry IPv6 only, one /64
 * each (2001:2:0:(10+i)::/64: the host is ::2, the victim ::1; see linkAddresses).
 */
export function buildStar(ids: string[], prefix = "xidsd", family: Family = 4): StarTopology {
  checkIds(ids);
  checkFamily(family);
  setNamePrefix(prefix);
  const made: Netns[] = [];
  const close = () => {
    for (const ns of made.reverse()) ns.close();
  };
  try {
    const victim = Netns.create("v");
    made.push(victim);
    prepare(victim, family, "link-local");
    const hosts = ids.map((id, i) => plainHost(victim, id, i, family, made));
    return { family, victim, hosts, victimIfaces: hosts.map((h) => h.victimIface), [Symbol.dispose]: close };
  } catch (err) {
    close();
    throw err;
  }
}

/** A host of a star with link conditions. */
export interface ConditionedStarHost extends StarHost {
  condition: LinkCondition;
  /** The relay between this host and the victim (null on a plain link) and its namespace. */
  relay: LinkRelay | null;
  relayNs: Netns | null;
}

export interface ConditionedStar extends StarTopology, AsyncDisposable {
  hosts: ConditionedStarHost[];
  /**
   * Stops every relay and returns its counters, one entry per host (null on a plain link or for a
   * relay that died without printing them). Idempotent; the namespaces stay until disposal.
   */
  stopRelays(): Promise<(RelayStats | null)[]>;
}

export interface ConditionedStarOptions {
  /** Namespace name prefix ("xidsd" for the demo, "xidst" for tests). */
  prefix?: string;
  /** Seeds each relay whose condition has no seed of its own (with the host's index). */
  seed?: number;
  /** Every relay ends by itself after this long (a bound if nobody stops it); default 1 h. */
  timeLimitS?: number;
  /** The relays' SCHED_FIFO priority (0: normal tasks); default 1. */
  rtPriority?: number;
  /** The links' address family (see buildStar); default 4. */
  family?: Family;
  /** An IPv4 star's IPv6: link-local chatter (default) or off. */
  ipv6?: Ipv4StarIpv6;
}

function relaySeed(seed: number, i: number): number {
  return (Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x01000193) + i * 0x9e3779b9) >>> 0;
}

/**
 * The testbed's star with a condition per host (conditions[i] for ids[i]). A plain condition
 * (NO_CONDITION, or all zero) gets the same veth link as buildStar; any other gets a relay
 * namespace on the path, with the same addresses and the same victim interface name, so the
 * rest of the testbed cannot tell the difference:
 *
 *   host eth0 <-> (relay ns) to-host [link-relay] to-victim <-> victim h<i>
 *
 * On a relayed link both ends send one MTU-sized frame per packet (gso_max_segs 1), so loss and
 * rate apply per packet as on a real link, not per 64 KiB offload super-frame. Each relay is
 * stopped with the topology, also when building fails; `await using` collects the counters
 * first, plain `using` only signals the relays.
 */
export async function buildStarWithConditions(ids: string[], conditions: readonly LinkCondition[], opts: ConditionedStarOptions = {}): Promise<ConditionedStar> {
  checkIds(ids);
  if (conditions.length !== ids.length) throw new RangeError(`${ids.length} hosts need ${ids.length} link conditions, got ${conditions.length}`);
  for (const c of conditions) validateCondition(c);
  const family = opts.family ?? 4;
  const ipv6 = opts.ipv6 ?? "link-local";
  checkFamily(family);
  setNamePrefix(opts.prefix ?? "xidsd");
  const seed = opts.seed ?? 1;
  const timeLimitS = opts.timeLimitS ?? 3_600;
  const made: Netns[] = [];
  const relays: (LinkRelay | null)[] = [];
  let stopped: Promise<(RelayStats | null)[]> | undefined;
  const stopRelays = () => (stopped ??= Promise.all(relays.map((r) => r?.stop() ?? Promise.resolve(null))));
  const closeNamespaces = () => {
    for (const ns of made.reverse()) ns.close();
  };
  const closeSync = () => {
    for (const r of relays) r?.kill();
    closeNamespaces();
  };
  try {
    const victim = Netns.create("v");
    made.push(victim);
    prepare(victim, family, ipv6);
    const hosts: ConditionedStarHost[] = [];
    for (const [i, id] of ids.entries()) {
      const condition = conditions[i]!;
      if (!needsRelay(condition)) {
        relays.push(null);
        hosts.push({ ...plainHost(victim, id, i, family, made, ipv6), condition: { ...NO_CONDITION, label: condition.label }, relay: null, relayNs: null });
        continue;
      }
      const ns = Netns.create("h");
      made.push(ns);
      prepare(ns, family, ipv6);
      // Its name starts with the prefix too: the leak check finds it if teardown ever fails.
      const relayNs = Netns.create("r");
      made.push(relayNs);
      // The relay's own namespace stays silent in both families: it only moves frames.
      disableIpv6(relayNs);
      const a = linkAddresses(i, family);
      const victimIface = `h${i}`;
      createVethPair({ ns: victim, ifname: victimIface, addrs: [`${a.victim}/${a.prefixLen}`] }, { ns: relayNs, ifname: RELAY_VICTIM_IFACE, addrs: [] });
      createVethPair({ ns: relayNs, ifname: RELAY_HOST_IFACE, addrs: [] }, { ns, ifname: "eth0", addrs: [`${a.host}/${a.prefixLen}`] });
      ns.execSync(["ip", "link", "set", "eth0", "gso_max_segs", "1"]);
      victim.execSync(["ip", "link", "set", victimIface, "gso_max_segs", "1"]);
      const relay = await LinkRelay.start(relayNs, { condition, seed: condition.seed ?? relaySeed(seed, i), timeLimitS, rtPriority: opts.rtPriority ?? 1 });
      relays.push(relay);
      hosts.push({ id, ns, ip: a.host, victimIp: a.victim, victimIface, condition, relay, relayNs });
    }
    return {
      family,
      victim,
      hosts,
      victimIfaces: hosts.map((h) => h.victimIface),
      stopRelays,
      [Symbol.dispose]: closeSync,
      async [Symbol.asyncDispose]() {
        await stopRelays();
        closeNamespaces();
      },
    };
  } catch (err) {
    closeSync();
    throw err;
  }
}
