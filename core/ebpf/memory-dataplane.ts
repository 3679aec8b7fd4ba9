// The data plane without an attached interface: block and allow lists kept in memory (xdpMode
// "none"). The core, its control API and the plugins run; nothing is dropped.
import { configSchema, type XidsConfig } from "../config/config.ts";
import { validate } from "../config/schema.ts";
import type { Cidr, IpAddr } from "../util/net.ts";
import { allowListedIn } from "./allow-list.ts";
import { LocalAddresses } from "./local-addresses.ts";
import type { BlockedEntry, DataPlanePort } from "./port.ts";

export class MemoryDataPlane implements DataPlanePort {
  readonly ifname = "";
  readonly xdpMode = "none" as const;
  readonly kernel = null;
  readonly readopted = 0;
  private readonly blocked = new Map<string, { expiresAt: number; reason: number }>();
  private readonly allowed = new Set<string>();
  private readonly local = new LocalAddresses();

  constructor(readonly settings: XidsConfig["dataplane"] = MemoryDataPlane.defaults()) {}

  /** The dataplane section's defaults, for tests that build a MemoryDataPlane directly. */
  static defaults(): XidsConfig["dataplane"] {
    const r = validate(configSchema, {});
    if (!r.ok) throw new Error("the configuration defaults do not validate");
    return r.value.dataplane;
  }

  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedEntry {
    this.blocked.set(addr.text, { expiresAt: ttlSeconds ? Date.now() + ttlSeconds * 1000 : 0, reason });
    return { address: addr.text, expiresInMs: ttlSeconds * 1000, reason, hits: 0 };
  }
  unblock(addr: IpAddr): boolean {
    return this.blocked.delete(addr.text);
  }
  listBlocked(): BlockedEntry[] {
    const now = Date.now();
    return [...this.blocked]
      .filter(([, v]) => v.expiresAt === 0 || v.expiresAt > now)
      .map(([address, v]) => ({ address, expiresInMs: v.expiresAt ? v.expiresAt - now : 0, reason: v.reason, hits: 0 }))
      .sort((a, b) => a.address.localeCompare(b.address));
  }
  allow(cidr: Cidr): void {
    this.allowed.add(cidr.cidr);
  }
  disallow(cidr: Cidr): boolean {
    return this.allowed.delete(cidr.cidr);
  }
  listAllowed(): string[] {
    return [...this.allowed].sort();
  }
  allowListed(addr: IpAddr): string | null {
    return allowListedIn(this.allowed, addr);
  }
  isLocal(addr: IpAddr): boolean {
    return this.local.has(addr);
  }
  stats(): Record<string, number> {
    return {};
  }
  lostRecords(): number {
    return 0;
  }
  async close(): Promise<void> {}
}
