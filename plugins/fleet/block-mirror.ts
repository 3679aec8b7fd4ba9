// The fleet's block list mirrored into this agent's data plane. Every session watches the blocks
// bucket from its start (the last value of every key, deletes included, then every change), so a
// (re)started or reconnected agent re-syncs: a block is applied for the time it has left, a key
// deleted from the bucket lifts the block it applied, an expired block is never applied (and is
// removed from the bucket), and an allow-listed source is never blocked (it is applied if the
// allow goes). What this agent decided itself is already in its kernel: only recorded. With a
// pinned block list (dataplane.pin_dir), which blocks came from the fleet is kept across restarts.
import type { KvWatchEntry } from "@nats-io/kv";
import type { DataPlanePort } from "../../core/plugin-api/services.ts";
import type { Logger } from "../../core/plugin-api/types.ts";
import { throttled } from "../../core/util/log.ts";
import { AppliedState } from "./applied-state.ts";
import { cidrContains, neverBlockReason, parseIp, type Cidr, type IpAddr } from "../../core/util/net.ts";
import type { Session } from "./link.ts";
import { fromKey } from "./names.ts";
import { parseBlock, type BlockRecord } from "./records.ts";

/** An expired block decided by another agent is removed by anyone after this long (its agent may be gone). */
const EXPIRED_GRACE_MS = 30_000;
const SWEEP_MS = 1_000;
/** How long an own decision waits for the bucket's echo before it is forgotten. */
const OWN_ECHO_MS = 600_000;

interface Held {
  record: BlockRecord;
  revision: number;
}

export interface BlockMirrorStats {
  applied: number;
  lifted: number;
  expired: number;
  /** Not applied: an allow covers the source. */
  allowed: number;
  /** Not applied: never a source to block here (loopback, this host's own, ...). */
  refused: number;
  /** Values in the bucket that are not a block record. */
  invalid: number;
  /** Data plane writes that failed. */
  failures: number;
}

export class BlockMirror {
  readonly stats: BlockMirrorStats = { applied: 0, lifted: 0, expired: 0, allowed: 0, refused: 0, invalid: 0, failures: 0 };
  /** Blocks of the bucket this agent holds in its data plane. */
  private readonly applied = new Map<string, Held>();
  /** Blocks of the bucket an allow covers here: applied if the allow goes. */
  private readonly covered = new Map<string, Held>();
  /** This agent's own decisions (key -> at_ms), already in its kernel, until the bucket echoes them. */
  private readonly own = new Map<string, number>();
  private readonly expiredSeen = new Map<string, Held>();
  /** Fleet blocks an earlier run of this agent applied to the pinned block list (keys). */
  private readonly inherited = new Set<string>();
  private readonly state: AppliedState | null;
  private readonly warn = throttled((m) => this.log.warn(m));
  private readonly sweeper: ReturnType<typeof setInterval>;
  private session: Session | null = null;
  /** Called with each block applied here and when (bench: propagation time). */
  onApplied: ((record: BlockRecord, atMs: number) => void) | null = null;

  constructor(
    private readonly dp: DataPlanePort,
    private readonly agent: string,
    private readonly log: Logger,
    /** True while this agent's own newer decision on the key waits to be written. */
    private readonly pendingOwn: (key: string) => boolean,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.state = dp.settings.pin_dir ? new AppliedState(dp.settings.state_dir, agent, log, () => [...this.applied.keys(), ...this.inherited]) : null;
    for (const key of this.state?.load() ?? []) this.inherited.add(key);
  }

  get size(): number {
    return this.applied.size;
  }

  /** Watches the bucket on a new session (the old session's watch ended with it). */
  async start(session: Session): Promise<void> {
    const watch = await session.stores.blocks.watch();
    this.session = session;
    session.onEnd(() => watch.stop());
    void (async () => {
      try {
        for await (const e of watch) {
          this.onEntry(e);
          this.state?.changed();
        }
      } catch (err) {
        this.warn("watch", `blocks watch failed: ${(err as Error).message}`);
      }
      session.restart("the blocks watch stopped");
    })();
  }

  /** This agent blocked `record.source` itself (its kernel holds it); the bucket will echo it. */
  decided(key: string, record: BlockRecord): void {
    this.own.set(key, record.at_ms);
  }

  private onEntry(e: KvWatchEntry): void {
    const addr = parseIp(fromKey(e.key));
    if (!addr) return this.invalid(e.key, "the key is not an address");
    if (e.operation !== "PUT") return this.lift(e.key, addr, "deleted from the fleet's block list");
    let record: BlockRecord;
    try {
      record = parseBlock(e.value);
    } catch (err) {
      return this.invalid(e.key, (err as Error).message);
    }
    if (parseIp(record.source)?.text !== addr.text) return this.invalid(e.key, `source ${record.source} is not the key's address`);
    this.consider(e.key, addr, { record, revision: e.revision });
  }

  private invalid(key: string, why: string): void {
    this.stats.invalid++;
    this.warn("invalid", `blocks bucket: ${key} ignored: ${why}`);
  }

  private consider(key: string, addr: IpAddr, held: Held): void {
    const { record } = held, now = Date.now();
    this.covered.delete(key);
    this.expiredSeen.delete(key);
    this.inherited.delete(key); // from here on, this run decides
    if (record.expires_at_ms !== 0 && record.expires_at_ms <= now) {
      this.applied.delete(key);
      this.expiredSeen.set(key, held);
      return;
    }
    const never = neverBlockReason(addr) ?? (this.dp.isLocal(addr) ? "an address of this host" : null);
    if (never) {
      this.stats.refused++;
      this.warn(`never-${key}`, `fleet block of ${addr.text} (by ${record.agent}) not applied: ${never}`);
      return;
    }
    const allow = this.dp.allowListed(addr);
    if (allow) {
      this.stats.allowed++;
      this.covered.set(key, held);
      if (this.applied.delete(key)) this.dp.unblock(addr);
      this.log.info(`fleet block of ${addr.text} (by ${record.agent}) not applied: the allow list has ${allow}`);
      return;
    }
    if (this.own.get(key) === record.at_ms) {
      this.own.delete(key); // this agent's decision, in its kernel since the detection
      this.applied.set(key, held);
      return;
    }
    try {
      this.dp.block(addr, record.expires_at_ms ? Math.ceil((record.expires_at_ms - now) / 1000) : 0, record.code);
    } catch (err) {
      this.stats.failures++;
      this.log.error(`fleet block of ${addr.text} failed: ${(err as Error).message}`);
      return;
    }
    this.applied.set(key, held);
    this.stats.applied++;
    this.onApplied?.(record, now);
  }

  private lift(key: string, addr: IpAddr, why: string): void {
    this.covered.delete(key);
    this.expiredSeen.delete(key);
    // Decided here again while the fleet was unreachable: that decision is written next.
    if (this.pendingOwn(key) || !(this.applied.delete(key) || this.inherited.delete(key))) return;
    if (this.dp.unblock(addr)) {
      this.stats.lifted++;
      this.log.info(`unblocked ${addr.text}: ${why}`);
    }
  }

  /** An allow for `cidr` arrived: lift every block inside it, the fleet's and this agent's own. */
  cover(cidr: Cidr): void {
    for (const [key, held] of this.applied) {
      const addr = parseIp(fromKey(key));
      if (addr && cidrContains(cidr, addr)) {
        this.applied.delete(key);
        this.covered.set(key, held);
      }
    }
    let lifted = 0;
    for (const b of this.dp.listBlocked()) {
      const addr = parseIp(b.address);
      if (addr && cidrContains(cidr, addr) && this.dp.unblock(addr)) lifted++;
    }
    if (lifted) this.log.warn(`fleet allow ${cidr.cidr} lifted ${lifted} block(s)`);
    this.state?.changed();
  }

  /** An allow went: the fleet's blocks it covered apply again (those still covered stay aside). */
  uncover(): void {
    for (const [key, held] of [...this.covered]) {
      const addr = parseIp(fromKey(key));
      if (addr) this.consider(key, addr, held);
    }
  }

  /** Expired blocks leave the mirror, and the bucket: at once by the agent that decided them,
   *  after a grace by any other (the deciding agent may be gone). Kernel entries expire by themselves. */
  private sweep(): void {
    const now = Date.now();
    for (const [key, held] of this.applied) {
      if (held.record.expires_at_ms !== 0 && held.record.expires_at_ms <= now) {
        this.applied.delete(key);
        this.stats.expired++;
        this.expiredSeen.set(key, held);
        this.state?.changed();
      }
    }
    for (const [key, atMs] of this.own) if (now - atMs > OWN_ECHO_MS) this.own.delete(key); // never written (an allow came first)
    const session = this.session;
    if (!session?.live) return;
    for (const [key, held] of this.expiredSeen) {
      if (held.record.agent !== this.agent && now - held.record.expires_at_ms < EXPIRED_GRACE_MS) continue;
      this.expiredSeen.delete(key);
      // Only that revision: a newer block of the same source written meanwhile stays.
      session.stores.blocks.delete(key, { previousSeq: held.revision }).catch((err: Error) => this.log.debug(`expired block ${key} not removed: ${err.message}`));
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.state?.save();
  }
}
