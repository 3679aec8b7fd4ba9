// This host's own addresses (in the protected interfaces' network namespace): a source the data
// plane must never block, whatever a model says. Read with `ip -j addr` (inside the namespace
// when one is configured) and cached for a few seconds, since addresses can change at run time.
import { networkInterfaces } from "node:os";
import { parseIp, type IpAddr } from "../util/net.ts";

const REFRESH_MS = 5_000;

export class LocalAddresses {
  private cache = new Set<string>();
  private readAt = 0;

  /** netnsPath: /var/run/netns/NAME, or undefined for our own namespace. */
  constructor(private readonly netnsPath?: string) {}

  has(addr: IpAddr): boolean {
    return this.current().has(addr.text);
  }

  /** Every address of this host, canonical text. */
  list(): string[] {
    return [...this.current()];
  }

  private current(): Set<string> {
    if (Date.now() - this.readAt > REFRESH_MS) [this.cache, this.readAt] = [this.read(), Date.now()];
    return this.cache;
  }

  private read(): Set<string> {
    const out = new Set<string>();
    if (!this.netnsPath) {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) add(out, a.address);
      return out;
    }
    const r = Bun.spawnSync(["nsenter", `--net=${this.netnsPath}`, "--", "ip", "-j", "addr", "show"], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) return this.cache; // keep what we knew; the next call tries again
    const links = JSON.parse(r.stdout.toString() || "[]") as { addr_info?: { local?: string }[] }[];
    for (const l of links) for (const a of l.addr_info ?? []) if (a.local) add(out, a.local);
    return out;
  }
}

function add(set: Set<string>, text: string): void {
  const ip = parseIp(text.split("%")[0]!);
  if (ip) set.add(ip.text);
}
