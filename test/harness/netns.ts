// Network namespaces and veth pairs: the demo's testbed and the real-kernel tests build their
// hosts with these. Every name starts with a prefix (tests: "xidst", so the end-of-suite leak
// check can find strays; the demo: "xidsd").
import { existsSync } from "node:fs";
import { execSync, exec, nsPath, type ExecOptions, type ExecResult } from "./exec.ts";

let namePrefix = "xidst";
let counter = 0;

/** Sets the prefix of every namespace and interface created from now on. */
export function setNamePrefix(prefix: string): void {
  namePrefix = prefix;
}

function uniqueName(tag: string): string {
  // Interface names are limited to 15 characters; keep namespace names short too.
  return `${namePrefix}${tag}${process.pid % 10000}${(counter++).toString(36)}`.slice(0, 15);
}

export class Netns implements Disposable {
  #alive = true;

  private constructor(readonly name: string) {}

  static create(tag = "n"): Netns {
    const name = uniqueName(tag);
    execSync(["ip", "netns", "add", name]);
    const ns = new Netns(name);
    try {
      ns.execSync(["ip", "link", "set", "lo", "up"]);
    } catch (err) {
      ns.close();
      throw err;
    }
    return ns;
  }

  get path(): string {
    return nsPath(this.name);
  }

  exec(argv: string[], opts: Omit<ExecOptions, "netns"> = {}): Promise<ExecResult> {
    return exec(argv, { ...opts, netns: this.name });
  }

  execSync(argv: string[], opts: Omit<ExecOptions, "netns" | "stdin"> = {}): ExecResult {
    return execSync(argv, { ...opts, netns: this.name });
  }

  /** Starts a long-running process in the namespace (a server); the caller kills it. */
  spawn(argv: string[]): Bun.Subprocess<"ignore", "pipe", "pipe"> {
    return Bun.spawn(["nsenter", `--net=${this.path}`, "--", ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  }

  /** Deleting the namespace destroys its veth ends, and with them their XDP attachments. */
  close(): void {
    if (!this.#alive) return;
    this.#alive = false;
    // A delete that fails is retried, then said out loud: the leak check would only see the name.
    for (let attempt = 1; ; attempt++) {
      const r = execSync(["ip", "netns", "del", this.name], { allowFail: true });
      if (r.code === 0 || !existsSync(this.path)) return;
      if (attempt === 5) {
        console.error(`netns ${this.name}: ip netns del failed ${attempt} times: ${r.stderr.trim()}`);
        return;
      }
      Bun.sleepSync(100);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export interface VethEnd {
  ns: Netns;
  /** Interface name inside the namespace. */
  ifname?: string;
  /** CIDR addresses, from 198.18.0.0/15 (and 2001:2::/48 for IPv6). */
  addrs: string[];
}

export interface VethPair {
  a: { ns: Netns; ifname: string; mac: string };
  b: { ns: Netns; ifname: string; mac: string };
}

/** Creates a veth pair with one end in each namespace, addressed and up. */
export function createVethPair(a: VethEnd, b: VethEnd): VethPair {
  const tmpA = uniqueName("va");
  const tmpB = uniqueName("vb");
  execSync(["ip", "link", "add", tmpA, "type", "veth", "peer", "name", tmpB]);
  try {
    const ends = [[a, tmpA], [b, tmpB]] as const;
    const out: { ns: Netns; ifname: string; mac: string }[] = [];
    for (const [end, tmp] of ends) {
      const ifname = end.ifname ?? tmp;
      execSync(["ip", "link", "set", tmp, "netns", end.ns.name]);
      if (ifname !== tmp) end.ns.execSync(["ip", "link", "set", tmp, "name", ifname]);
      for (const addr of end.addrs) {
        const v6 = addr.includes(":");
        // nodad: IPv6 addresses are usable at once instead of after duplicate detection.
        end.ns.execSync(["ip", ...(v6 ? ["-6"] : []), "addr", "add", addr, "dev", ifname, ...(v6 ? ["nodad"] : [])]);
      }
      end.ns.execSync(["ip", "link", "set", ifname, "up"]);
      const mac = end.ns.execSync(["cat", `/sys/class/net/${ifname}/address`], { allowFail: true }).stdout.trim();
      out.push({ ns: end.ns, ifname, mac });
    }
    return { a: out[0]!, b: out[1]! };
  } catch (err) {
    execSync(["ip", "link", "del", tmpA], { allowFail: true });
    throw err;
  }
}

/** Two namespaces joined by one veth pair, the common shape of data-plane tests. */
export interface TwoHosts extends Disposable {
  client: Netns;
  server: Netns;
  link: VethPair;
  clientIp: string;
  serverIp: string;
  clientIp6: string;
  serverIp6: string;
}

export function twoHosts(opts: { clientIp?: string; serverIp?: string } = {}): TwoHosts {
  const clientIp = opts.clientIp ?? "198.18.0.1";
  const serverIp = opts.serverIp ?? "198.18.0.2";
  const clientIp6 = "2001:2::1";
  const serverIp6 = "2001:2::2";
  const client = Netns.create("c");
  let server: Netns | undefined;
  try {
    server = Netns.create("s");
    const link = createVethPair(
      { ns: client, ifname: "eth0", addrs: [`${clientIp}/24`, `${clientIp6}/64`] },
      { ns: server, ifname: "eth0", addrs: [`${serverIp}/24`, `${serverIp6}/64`] },
    );
    const s = server;
    return {
      client, server: s, link, clientIp, serverIp, clientIp6, serverIp6,
      [Symbol.dispose]() {
        s.close();
        client.close();
      },
    };
  } catch (err) {
    server?.close();
    client.close();
    throw err;
  }
}

export { exec, execSync, nsPath, type ExecOptions, type ExecResult };

/** Everything tests create is named with this prefix (the default above). */
export const TEST_PREFIX = "xidst";
