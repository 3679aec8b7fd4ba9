// What the rest of the core and the plugins see of the data plane: the block and allow lists, the
// kernel counters, and (when an interface is attached) the loaded XDP object itself, for the
// plugins that own parts of it (the flow extractor's ring buffer and sweeps, the in-kernel model's
// parameter slots). Two implementations: KernelDataPlane (attached XDP) and MemoryDataPlane.
import type { XidsConfig } from "../config/config.ts";
import type { Cidr, IpAddr } from "../util/net.ts";
import type { DataPlane } from "./dataplane.ts";

export interface BlockedEntry {
  address: string;
  /** 0 = permanent. */
  expiresInMs: number;
  reason: number;
  hits: number;
}

export type XdpMode = "native" | "generic" | "none";

export interface DataPlanePort {
  readonly ifname: string;
  /** "native" / "generic": XDP attached in that mode; "none": no interface attached. */
  readonly xdpMode: XdpMode;
  /** The data plane's settings from the configuration (timeouts, sweep interval, ...). */
  readonly settings: XidsConfig["dataplane"];
  /** The loaded XDP object; null when no interface is attached (lists kept in memory). */
  readonly kernel: DataPlane | null;
  /** XDP links taken over from pins left by an earlier run (0 = fresh attachments). */
  readonly readopted: number;
  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedEntry;
  /** False when the address was not blocked. */
  unblock(addr: IpAddr): boolean;
  listBlocked(): BlockedEntry[];
  allow(cidr: Cidr): void;
  /** False when the CIDR was not in the allow list. */
  disallow(cidr: Cidr): boolean;
  listAllowed(): string[];
  /** The allow-list CIDR containing `addr`, if any. */
  allowListed(addr: IpAddr): string | null;
  /** True for an address of this host (in the protected interfaces' namespace): never blocked. */
  isLocal(addr: IpAddr): boolean;
  /** Kernel counters by name, summed across CPUs. */
  stats(): Record<string, number>;
  /** Flow records the kernel could not hand to user space (ring buffer full). */
  lostRecords(): number;
  /** A clean stop; with failedStart, takes back only what this start created. */
  close(opts?: { failedStart?: boolean }): Promise<void>;
}
