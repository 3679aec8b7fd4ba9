// Binds the DataPlanePort to the data plane (core/dataplane/dataplane.ts): loads the XDP object,
// attaches it to the configured interface (reporting the mode in use), drains the ring buffer of
// ended flows and sweeps idle flows on a timer. Block/allow calls write the kernel maps directly,
// so protection never depends on a user-space plugin being up.
// With no interface configured, MemoryDataPlane keeps the lists in memory (xdpMode "none"): the
// core, its control API and plugins run, but nothing is dropped.
import { existsSync, mkdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { DataPlane } from "../dataplane/dataplane.ts";
import { ModelSlots } from "../inference/model-slots.ts";
import type { FlowRecord as AbiRecord } from "../dataplane/abi.ts";
import { XdpLink, ifNameToIndex } from "../../native/index.ts";
import { unlinkSync } from "node:fs";
import { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { XidsConfig } from "../config/config.ts";
import type { Logger } from "../plugins/types.ts";
import { formatIp, type Cidr, type IpAddr } from "./net.ts";
import type { BlockedEntry, DataPlanePort } from "./ports.ts";

const REPO_ROOT = resolve(import.meta.dir, "..", "..");

let nextId = 1;

export function toProtoRecord(r: AbiRecord, source: string): FlowRecord {
  return FlowRecord.create({
    id: nextId++,
    family: r.family,
    protocol: r.proto,
    endReason: r.endReason,
    srcAddr: formatIp(r.family, r.src),
    srcPort: r.srcPort,
    dstAddr: formatIp(r.family, r.dst),
    dstPort: r.dstPort,
    firstUs: Number(r.firstUs),
    lastUs: Number(r.lastUs),
    kernelVerdict: r.verdict,
    kernelScore: r.score,
    modelVersion: r.modelVersion,
    features: r.features.map(Number),
    source,
  });
}

/** A record id for records that did not come through toProtoRecord (extractor plugins). */
export function assignRecordId(r: FlowRecord): FlowRecord {
  r.id = nextId++;
  return r;
}

export class KernelDataPlane implements DataPlanePort {
  readonly xdpMode: "native" | "generic";
  private readonly sinks = new Set<(r: FlowRecord) => void>();
  private readonly allowed = new Set<string>();
  private readonly poll: ReturnType<typeof setInterval>;
  private readonly sweepTimer: ReturnType<typeof setInterval>;
  private closed = false;

  private constructor(
    private readonly dp: DataPlane,
    private readonly links: XdpLink[],
    readonly ifname: string,
    sweepMs: number,
    private readonly log: Logger,
    /** Links re-adopted from pins left by an earlier run (0 = fresh attachments). */
    readonly readopted: number,
  ) {
    // With the generic fallback, one interface may run generic while another runs native.
    this.xdpMode = links.some((l) => l.mode === "generic") ? "generic" : "native";
    for (const c of dp.allowed()) this.allowed.add(c);
    this.poll = setInterval(() => this.drain(), 10);
    this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
  }

  static open(cfg: XidsConfig["dataplane"], block: XidsConfig["pipeline"]["block"], log: Logger): KernelDataPlane {
    const ms = (v: number) => BigInt(v) * 1_000_000n;
    const dp = DataPlane.load({
      // The BPF object is a build product of this repository: a relative path is relative to it.
      object: isAbsolute(cfg.object) ? cfg.object : join(REPO_ROOT, cfg.object),
      idleTimeoutNs: ms(cfg.idle_timeout_ms),
      activeTimeoutNs: ms(cfg.active_timeout_ms),
      earlyEndPkts: cfg.early_end_packets,
      // An in-kernel attack verdict blocks the source right there, as pipeline.block says.
      modelAction: block.enabled ? "block" : "alert",
      blockTtlNs: BigInt(block.ttl_seconds) * 1_000_000_000n,
      blockReason: block.reason,
      blockPolicy: { minAttacks: block.min_attacks, minAttackPct: block.min_attack_pct, windowNs: BigInt(block.window_seconds) * 1_000_000_000n },
      ...(cfg.pin_dir ? { pinDir: ensureDir(cfg.pin_dir) } : {}),
    });
    try {
      const netns = cfg.netns ? (cfg.netns.startsWith("/") ? cfg.netns : `/var/run/netns/${cfg.netns}`) : undefined;
      const links: XdpLink[] = [];
      let readopted = 0;
      try {
        for (const ifname of cfg.interfaces) {
          const pin = cfg.pin_dir ? linkPinPath(cfg.pin_dir, ifname) : null;
          if (pin && existsSync(pin)) {
            // An earlier run (killed, or crashed) left its link pinned: the old program has kept
            // dropping blocked sources meanwhile, reading the same pinned maps. Take the link over
            // and swap our program into it atomically: never detached, never attached twice.
            const link = XdpLink.fromPin(pin, { netns: netns ?? "" });
            const want = ifNameToIndex(ifname, netns);
            if (link.ifindex === want) {
              links.push(link);
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
          if (pin) link.pin(pin);
          log.info(`XDP attached to ${ifname}${netns ? ` (netns ${cfg.netns})` : ""} in ${link.mode} mode${pin ? `, link pinned at ${pin}` : ""}`);
        }
      } catch (err) {
        for (const l of links) l.close();
        throw err;
      }
      return new KernelDataPlane(dp, links, cfg.interfaces.join(","), cfg.sweep_interval_ms, log, readopted);
    } catch (err) {
      dp.close();
      throw err;
    }
  }

  private emit = (r: AbiRecord): void => {
    const rec = toProtoRecord(r, this.ifname);
    for (const sink of this.sinks) sink(rec);
  };

  private drain(): void {
    if (this.closed) return;
    try {
      this.dp.drain(this.emit);
    } catch (err) {
      this.log.error(`ring buffer drain failed: ${(err as Error).message}`);
    }
  }

  private sweep(): void {
    if (this.closed) return;
    try {
      this.dp.sweep("expire", this.emit);
    } catch (err) {
      this.log.error(`sweep failed: ${(err as Error).message}`);
    }
  }

  /** Ends every live flow now (classifying it, as at any flow end) and delivers the records. */
  flush(): number {
    return this.dp.sweep("flush", this.emit);
  }

  /** The in-kernel classifier's parameter slots (hot update). */
  modelSlots(): ModelSlots {
    return new ModelSlots(this.dp.coll);
  }

  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedEntry {
    this.dp.block(addr.text, { reason, ttlNs: BigInt(ttlSeconds) * 1_000_000_000n });
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
    return out.sort((a, b) => a.address.localeCompare(b.address));
  }

  allow(cidr: Cidr): void {
    this.dp.allow(cidr.cidr);
    this.allowed.add(cidr.cidr);
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

  onFlow(sink: (r: FlowRecord) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  lostRecords(): number {
    return Number(this.dp.events.lost);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    clearInterval(this.poll);
    clearInterval(this.sweepTimer);
    // A clean stop detaches (even a pinned link) and removes the link pin; the pinned maps stay,
    // so the next run starts with the same block and allow lists.
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
    this.dp.close();
  }

  /** The underlying data plane (counters straight from the kernel maps). */
  get kernel(): DataPlane {
    return this.dp;
  }
}

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Where the XDP link of one interface is pinned under dataplane.pin_dir. */
export function linkPinPath(pinDir: string, ifname: string): string {
  return join(pinDir, `link_${ifname}`);
}

export class MemoryDataPlane implements DataPlanePort {
  readonly ifname = "";
  readonly xdpMode = "none" as const;
  private readonly blocked = new Map<string, { expiresAt: number; reason: number }>();
  private readonly allowed = new Set<string>();
  private readonly sinks = new Set<(r: FlowRecord) => void>();

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
  stats(): Record<string, number> {
    return {};
  }
  onFlow(sink: (r: FlowRecord) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }
  /** Feeds a record as if the kernel had produced it (tests, replays). */
  inject(r: FlowRecord): void {
    for (const s of this.sinks) s(r);
  }
  lostRecords(): number {
    return 0;
  }
  async close(): Promise<void> {}
}
