// The attached data plane: loads the XDP object with the configuration applied, attaches it to
// each configured interface (reporting the mode in use) or re-adopts the links an earlier run left
// pinned, and writes the block/allow maps directly, so protection never depends on a user-space
// plugin being up. Reading the ring buffer and sweeping timed-out flows is the flow extractor's
// job (plugins/extractors/xdp); the classifier's slots are the kernel model's.
import { existsSync, mkdirSync, rmSync, unlinkSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { FileLock, LockedError, XdpLink, ifNameToIndex } from "../../native/index.ts";
import type { XidsConfig } from "../config/config.ts";
import type { Logger } from "../util/log.ts";
import type { Cidr, IpAddr } from "../util/net.ts";
import { allowListedIn } from "./allow-list.ts";
import { LocalAddresses } from "./local-addresses.ts";
import { DataPlane } from "./dataplane.ts";
import { MAPS } from "./abi.ts";
import type { BlockedEntry, DataPlanePort } from "./port.ts";

const REPO_ROOT = resolve(import.meta.dir, "..", "..");

export class KernelDataPlane implements DataPlanePort {
  readonly xdpMode: "native" | "generic";
  readonly ifname: string;
  private readonly allowed = new Set<string>();
  private readonly local: LocalAddresses;
  private closed = false;
  private readonly localTimer: Timer;

  private constructor(
    private readonly dp: DataPlane,
    private readonly links: XdpLink[],
    readonly settings: XidsConfig["dataplane"],
    private readonly log: Logger,
    /** Links re-adopted from pins left by an earlier run (0 = fresh attachments). */
    readonly readopted: number,
    private readonly lock: FileLock | null,
    /** What this start created, for close({ failedStart: true }). */
    private readonly created: Created,
  ) {
    this.ifname = settings.interfaces.join(",");
    this.local = new LocalAddresses(settings.netns ? (settings.netns.startsWith("/") ? settings.netns : `/var/run/netns/${settings.netns}`) : undefined);
    // With the generic fallback, one interface may run generic while another runs native.
    this.xdpMode = links.some((l) => l.mode === "generic") ? "generic" : "native";
    for (const c of dp.allowed()) this.allowed.add(c);
    this.syncLocal();
    (this.localTimer = setInterval(() => this.syncLocal(), LOCAL_SYNC_MS)).unref();
  }

  /** Keeps the kernel's never-block set of this host's own addresses current. */
  private syncLocal(): void {
    try {
      this.dp.setLocalAddresses(this.local.list());
    } catch (err) {
      this.log.error(`this host's addresses into the kernel's never-block set: ${(err as Error).message}`);
    }
  }

  static open(cfg: XidsConfig["dataplane"], block: XidsConfig["pipeline"]["block"], log: Logger): KernelDataPlane {
    // One owner of pinned state: the lock is taken before anything pinned is touched, and a
    // second agent for the same pins stops here, having changed nothing.
    const lock = cfg.pin_dir ? lockPinDir(cfg.pin_dir) : null;
    const created = new Created();
    try {
      const ms = (v: number) => BigInt(v) * 1_000_000n;
      if (cfg.pin_dir && !existsSync(cfg.pin_dir)) {
        mkdirSync(cfg.pin_dir, { recursive: true, mode: 0o700 });
        created.pinDir = cfg.pin_dir;
      }
      const dp = DataPlane.load({
        // The BPF object is a build product of this repository: a relative path is relative to it.
        object: isAbsolute(cfg.object) ? cfg.object : join(REPO_ROOT, cfg.object),
        idleTimeoutNs: ms(cfg.idle_timeout_ms),
        activeTimeoutNs: ms(cfg.active_timeout_ms),
        earlyEndPkts: cfg.early_end_packets,
        // An in-kernel attack verdict blocks the source right there, as pipeline.block says.
        ...blocking(block),
        blockEntries: cfg.block_entries,
        selfSweepNs: ms(cfg.kernel_sweep_ms),
        synLimitPerSecond: cfg.syn_limit_per_destination,
        ringBytes: cfg.ring_bytes,
        sourceContexts: cfg.source_contexts,
        ...(cfg.pin_dir ? { pinDir: cfg.pin_dir } : {}),
      });
      created.dataplane = dp;
      const netns = cfg.netns ? (cfg.netns.startsWith("/") ? cfg.netns : `/var/run/netns/${cfg.netns}`) : undefined;
      const links: XdpLink[] = [];
      let readopted = 0;
      for (const ifname of cfg.interfaces) {
        const pin = cfg.pin_dir ? linkPinPath(cfg.pin_dir, ifname) : null;
        if (pin && existsSync(pin)) {
          // An earlier run (killed, or crashed: we hold its lock now) left its link pinned: the
          // old program has kept dropping blocked sources meanwhile, reading the same pinned
          // maps. Take the link over and swap our program into it atomically: never detached,
          // never attached twice.
          const link = XdpLink.fromPin(pin, { netns: netns ?? "" });
          const want = ifNameToIndex(ifname, netns);
          if (link.ifindex === want) {
            links.push(link);
            created.readopted.push(link);
            link.update(dp.xdp);
            readopted++;
            log.info(`XDP link on ${ifname}${netns ? ` (netns ${cfg.netns})` : ""} re-adopted from ${pin} (${link.mode} mode); program replaced in place`);
            continue;
          }
          // The interface it was on is gone (or renamed): the link is defunct.
          log.warn(`pinned XDP link ${pin} is on ifindex ${link.ifindex}, ${ifname} is ${want}: removing the stale pin`);
          link.close();
          unlinkSync(pin);
        }
        const link = XdpLink.attach(dp.xdp, { ifname, netns, mode: cfg.xdp_mode, allowFallback: cfg.allow_generic_fallback });
        links.push(link);
        created.attached.push(link);
        if (pin) link.pin(pin);
        log.info(`XDP attached to ${ifname}${netns ? ` (netns ${cfg.netns})` : ""} in ${link.mode} mode${pin ? `, link pinned at ${pin}` : ""}`);
      }
      return new KernelDataPlane(dp, links, cfg, log, readopted, lock, created);
    } catch (err) {
      created.undo(log);
      lock?.release();
      throw err;
    }
  }

  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedEntry {
    if (!this.dp.block(addr.text, { reason, ttlNs: BigInt(ttlSeconds) * 1_000_000_000n })) throw new Error(`${addr.text} is on the allow list`);
    return { address: addr.text, expiresInMs: ttlSeconds * 1000, reason, hits: 0 };
  }

  unblock(addr: IpAddr): boolean {
    return this.dp.unblock(addr.text);
  }

  listBlocked(): BlockedEntry[] {
    const now = this.dp.now();
    const out: BlockedEntry[] = [];
    for (const e of this.dp.blocks()) {
      if (e.expiresNs !== 0n && e.expiresNs <= now) continue; // expired: the kernel removes it lazily
      out.push({
        address: e.addr,
        expiresInMs: e.expiresNs === 0n ? 0 : Math.max(1, Number((e.expiresNs - now) / 1_000_000n)),
        reason: e.reason,
        hits: Number(e.hits),
      });
    }
    return out; // in address order, as blocks() reads them
  }

  /** Adds the CIDR and lifts the blocks inside it, at start-up too (a pinned block list). */
  allow(cidr: Cidr): void {
    this.allowed.add(cidr.cidr);
    for (const a of this.dp.allow(cidr.cidr)) this.log.info(`allow ${cidr.cidr}: block of ${a} lifted`);
  }

  disallow(cidr: Cidr): boolean {
    this.allowed.delete(cidr.cidr);
    return this.dp.disallow(cidr.cidr);
  }

  listAllowed(): string[] {
    return [...this.allowed].sort();
  }

  stats(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.dp.counters()).map(([k, v]) => [k, Number(v)]));
  }

  allowListed(addr: IpAddr): string | null {
    return allowListedIn(this.allowed, addr);
  }

  isLocal(addr: IpAddr): boolean {
    return this.local.has(addr);
  }

  lostRecords(): number {
    return Number(this.dp.counter("records_lost"));
  }

  /**
   * A clean stop detaches (even a pinned link) and removes the link pins; the pinned maps stay, so
   * the next run starts with the same block and allow lists. After a failed start only what this
   * start created goes: links it attached (and their pins), a pin directory it made; a link it
   * re-adopted stays attached and keeps dropping.
   */
  async close(opts: { failedStart?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.localTimer);
    if (opts.failedStart) this.created.undo(this.log);
    else {
      for (const l of this.links) {
        try {
          if (l.pinnedAt) {
            l.detach();
            l.unpin();
          }
        } catch (err) {
          this.log.error(`unpin XDP link: ${(err as Error).message}`);
        }
        l.close();
      }
      // Detached: nothing tail-calls the stages any more; the pin would only keep them loaded.
      if (this.settings.pin_dir) rmSync(join(this.settings.pin_dir, MAPS.stages), { force: true });
      this.dp.close();
    }
    this.lock?.release();
  }

  /** The loaded XDP object (maps, programs, ring buffer). */
  get kernel(): DataPlane {
    return this.dp;
  }
}

/** What one start made, so that a failed start can take back exactly that. */
class Created {
  pinDir: string | null = null;
  dataplane: DataPlane | null = null;
  attached: XdpLink[] = [];
  readopted: XdpLink[] = [];

  undo(log: Logger): void {
    for (const l of this.attached) {
      try {
        l.detach();
        if (l.pinnedAt) l.unpin();
      } catch (err) {
        log.error(`undo XDP attachment: ${(err as Error).message}`);
      }
      l.close();
    }
    for (const l of this.readopted) l.close(); // still pinned and attached
    this.dataplane?.close();
    if (this.pinDir) rmSync(this.pinDir, { recursive: true, force: true });
  }
}

/** Where the owner lock of a pin directory lives (bpffs holds only BPF objects). */
export function pinLockPath(pinDir: string): string {
  return join(LOCK_DIR, `${pinDir.replace(/^\/+/, "").replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
}

const LOCK_DIR = "/run/lock/xids";
const LOCAL_SYNC_MS = 2_000;

function lockPinDir(pinDir: string): FileLock {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o755 });
  const path = pinLockPath(pinDir);
  try {
    return FileLock.acquire(path, `pid ${process.pid}, started ${new Date().toISOString()}`);
  } catch (err) {
    if (!(err instanceof LockedError)) throw err;
    throw new Error(`dataplane.pin_dir ${pinDir} belongs to another running xids${err.holder ? ` (${err.holder})` : ""}: not touching its pinned state (lock ${path})`);
  }
}

/** Where the XDP link of one interface is pinned under dataplane.pin_dir. */
export function linkPinPath(pinDir: string, ifname: string): string {
  return join(pinDir, `link_${ifname}`);
}


/** pipeline.block as the data plane's block settings (at load, and again on a reload). */
export function blocking(block: XidsConfig["pipeline"]["block"]): Parameters<DataPlane["setBlocking"]>[0] {
  return {
    modelAction: block.enabled ? "block" : "alert",
    blockTtlNs: BigInt(block.ttl_seconds) * 1_000_000_000n,
    blockReason: block.reason,
    blockPolicy: { minAttacks: block.min_attacks, minAttackPct: block.min_attack_pct, windowNs: BigInt(block.window_seconds) * 1_000_000_000n },
    blockLonePacket: block.lone_packet_sources,
    blockWhenFull: block.when_full,
  };
}
