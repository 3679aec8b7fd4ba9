// DataPlane: the loaded XDP object (bpf/build/xids.bpf.o) with its configuration applied, and the
// operations user space needs on it: block/allow lists, counters summed across CPUs, sweeping
// timed-out flows, and draining flow records. Open -> configure -> load happen in load(); attach
// is the caller's (XdpLink), close() releases everything and is idempotent.
import { join } from "node:path";
import { existsSync, rmSync, unlinkSync } from "node:fs";
import { BpfMap, Collection, RingBuffer, monotonicNs, type Program } from "../../native/index.ts";
import {
  ALLOW_USED,
  BPF_OBJECT,
  BlockKey,
  BlockVal,
  COUNTER_NAMES,
  Counter,
  FlowRecordStruct,
  Lpm4Key,
  Lpm6Key,
  MAPS,
  NUM_COUNTERS,
  PROGRAMS,
  STAGE_SWEEP,
  SWEEP_MAGIC,
  SweepCmd,
  SweepMode,
  TEST_CLOCK_GLOBAL,
  decodeRecord,
  DEFAULT_CONFIG,
  ModelAction,
  type DataPlaneConfig,
  type FlowRecord,
} from "./abi.ts";
import { formatIp, parseCidr, parseIp } from "./addr.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");

/** Timeouts must keep every gap below 2^32 µs (the accumulators are exact within that). */
export const MAX_TIMEOUT_NS = 4_000_000_000_000n; // 4000 s

export interface DataPlaneOptions extends Partial<DataPlaneConfig> {
  /** Path of the BPF object; default bpf/build/xids.bpf.o in the repository. */
  object?: string;
  /** Read time from the test clock (replay) instead of bpf_ktime_get_ns(). */
  testClock?: boolean;
  flowsV4?: number;
  flowsV6?: number;
  blockEntries?: number;
  allowEntries?: number;
  /** Ring buffer size in bytes (power of two, ≥ page size). */
  ringBytes?: number;
  /** Sources whose context the data plane keeps (LRU; FEATURES.md 22..31). */
  sourceContexts?: number;
  /** Pin the state maps (flows, lists, counters) here and re-use them across restarts. */
  pinDir?: string;
  /** What an in-kernel attack verdict does: block the source (default) or only report it. */
  modelAction?: "block" | "alert";
  /** How long a model-made block lasts; 0 = until unblocked. Default 10 min. */
  blockTtlNs?: bigint;
  /** Reason code of model-made blocks (drops are counted per reason). Default 1. */
  blockReason?: number;
  /** Block policy: block a source once it has at least `minAttacks` attack verdicts in a window of
   *  `windowNs`, at least `minAttackPct` % of its verdicts there. Default 1 / 0 %: the first blocks. */
  blockPolicy?: { minAttacks: number; minAttackPct: number; windowNs: bigint };
  /** Block a source whose only traffic is one packet (default false: it may be spoofed). */
  blockLonePacket?: boolean;
  /** Block list full: evict the entry closest to expiry (default) or refuse the new one. */
  blockWhenFull?: "evict-soonest" | "refuse";
  /** The XDP program sweeps timed-out flows itself when no sweep ran this long (agent down); 0 = off. */
  selfSweepNs?: bigint;
  /** New-connection SYNs per second per destination address; 0 = no limit (default). */
  synLimitPerSecond?: number;
}

export interface BlockEntryInfo {
  addr: string;
  family: 4 | 6;
  reason: number;
  /** data-plane clock ns; 0n = permanent */
  expiresNs: bigint;
  hits: bigint;
  /** data-plane clock ns when the entry was written */
  addedNs: bigint;
  /** data-plane clock ns of the first packet it dropped; 0n = none yet */
  firstDropNs: bigint;
}

export function validateConfig(c: DataPlaneConfig): void {
  for (const [name, v] of [["idle", c.idleTimeoutNs], ["active", c.activeTimeoutNs]] as const) {
    if (v < 1000n || v > MAX_TIMEOUT_NS) throw new RangeError(`${name} timeout must be within 1 µs .. 4000 s, got ${v} ns`);
  }
  if (c.tailAbsorbNs < 0n || c.tailAbsorbNs > MAX_TIMEOUT_NS) throw new RangeError(`tail absorb time must be within 0 .. 4000 s, got ${c.tailAbsorbNs} ns`);
  if (!Number.isInteger(c.earlyEndPkts) || c.earlyEndPkts < 0 || c.earlyEndPkts > 0xffffffff) {
    throw new RangeError(`early end must be a packet count ≥ 0, got ${c.earlyEndPkts}`);
  }
}

export class DataPlane implements Disposable {
  readonly config: DataPlaneConfig;
  readonly testClock: boolean;
  readonly coll: Collection;
  readonly xdp: Program;
  readonly sweeper: Program;
  readonly events: RingBuffer;
  readonly #counters: BpfMap;
  #clockNs = 0n;
  #blocksSweptNs = -(1n << 62n);

  private constructor(coll: Collection, config: DataPlaneConfig, testClock: boolean) {
    this.coll = coll;
    this.config = config;
    this.testClock = testClock;
    this.xdp = coll.program(PROGRAMS.xdp);
    this.sweeper = coll.program(PROGRAMS.sweep);
    this.#counters = coll.map(MAPS.counters);
    this.events = new RingBuffer(coll.map(MAPS.events), { lost: () => this.counter("records_lost") });
  }

  static load(opts: DataPlaneOptions = {}): DataPlane {
    const config: DataPlaneConfig = {
      idleTimeoutNs: opts.idleTimeoutNs ?? DEFAULT_CONFIG.idleTimeoutNs,
      activeTimeoutNs: opts.activeTimeoutNs ?? DEFAULT_CONFIG.activeTimeoutNs,
      earlyEndPkts: opts.earlyEndPkts ?? DEFAULT_CONFIG.earlyEndPkts,
      tailAbsorbNs: opts.tailAbsorbNs ?? DEFAULT_CONFIG.tailAbsorbNs,
      dropMalformed: opts.dropMalformed ?? DEFAULT_CONFIG.dropMalformed,
      trackFlows: opts.trackFlows ?? DEFAULT_CONFIG.trackFlows,
    };
    validateConfig(config);
    const maxEntries: Record<string, number> = {};
    if (opts.flowsV4) maxEntries[MAPS.flows4] = opts.flowsV4;
    if (opts.flowsV6) maxEntries[MAPS.flows6] = opts.flowsV6;
    if (opts.blockEntries) maxEntries[MAPS.blocklist] = opts.blockEntries;
    if (opts.allowEntries) {
      maxEntries[MAPS.allow4] = opts.allowEntries;
      maxEntries[MAPS.allow6] = opts.allowEntries;
    }
    if (opts.ringBytes) maxEntries[MAPS.events] = opts.ringBytes;
    if (opts.sourceContexts) maxEntries[MAPS.srcctx] = opts.sourceContexts;
    const pin = opts.pinDir ? join(opts.pinDir, MAPS.counters) : "";
    const old = pin && existsSync(pin) ? BpfMap.fromPin(pin) : null;
    if (old && (old.close(), old.maxEntries !== 1)) unlinkSync(pin); // earlier layout (a u64 per counter): restarts
    const coll = Collection.load(opts.object ?? join(REPO_ROOT, BPF_OBJECT), {
      constants: {
        cfg_use_test_clock: opts.testClock ?? false,
        cfg_drop_malformed: config.dropMalformed,
        cfg_track_flows: config.trackFlows,
        cfg_idle_timeout_ns: config.idleTimeoutNs,
        cfg_active_timeout_ns: config.activeTimeoutNs,
        cfg_early_end_pkts: config.earlyEndPkts,
        cfg_tail_absorb_ns: config.tailAbsorbNs,
        cfg_self_sweep_ns: opts.selfSweepNs ?? 0n,
        cfg_syn_interval_ns: opts.synLimitPerSecond ? BigInt(Math.ceil(1e9 / opts.synLimitPerSecond)) : 0n,
      },
      maxEntries,
      ...(opts.pinDir
        ? { pinMaps: { dir: opts.pinDir, names: [MAPS.flows4, MAPS.flows6, MAPS.blocklist, MAPS.allow4, MAPS.allow6, MAPS.counters, MAPS.srcctx, MAPS.evidence] } }
        : {}),
    });
    try {
      const dp = new DataPlane(coll, config, opts.testClock ?? false);
      dp.setBlocking(opts); // before any attachment runs the program
      coll.map(MAPS.stages).setProgram(STAGE_SWEEP, coll.program(PROGRAMS.selfSweep).fd);
      // A program array is emptied when no process holds it: pinned, the stages (classifier, sweep)
      // go on while the agent is down. Each run pins its own: older stages read older maps.
      const stages = opts.pinDir ? join(opts.pinDir, MAPS.stages) : null;
      if (stages) (rmSync(stages, { force: true }), coll.map(MAPS.stages).pin(stages));
      dp.#allowUsed(); // pinned allow lists may hold entries already
      return dp;
    } catch (err) {
      coll.close();
      throw err;
    }
  }

  /** The data-plane clock: the test clock when enabled, else CLOCK_MONOTONIC (bpf_ktime_get_ns). */
  now(): bigint {
    return this.testClock ? this.#clockNs : monotonicNs();
  }

  /** Sets the test clock (replay writes each packet's capture time before running it). */
  setClock(ns: bigint): void {
    if (!this.testClock) throw new Error("the data plane was loaded without the test clock");
    if (ns === this.#clockNs) return;
    this.coll.setGlobal(TEST_CLOCK_GLOBAL, ns);
    this.#clockNs = ns;
  }

  /** The block settings the kernel applies where a flow ends (bpf/classify.h): rewritten in one
   *  map update while traffic flows (a reload); unset ones take their defaults. */
  setBlocking(o: Pick<DataPlaneOptions, "modelAction" | "blockTtlNs" | "blockReason" | "blockPolicy" | "blockLonePacket" | "blockWhenFull">): void {
    this.coll.setGlobals({
      cfg_model_action: o.modelAction === "alert" ? ModelAction.ALERT : ModelAction.BLOCK,
      cfg_block_ttl_ns: o.blockTtlNs ?? 600_000_000_000n,
      cfg_block_reason: o.blockReason ?? 1,
      cfg_block_min_attacks: o.blockPolicy?.minAttacks ?? 1,
      cfg_block_min_attack_pct: o.blockPolicy?.minAttackPct ?? 0,
      cfg_block_window_ns: o.blockPolicy?.windowNs ?? 10_000_000_000n,
      cfg_block_lone_packet: o.blockLonePacket ?? false,
      cfg_block_evict: (o.blockWhenFull ?? "evict-soonest") === "evict-soonest",
    });
  }

  // ---- block / allow lists ----

  /** Blocks a source address. ttlNs 0 (default) blocks until unblocked. False: refused, the source is
   *  allowed (the kernel's drop path never looks at the allow list: allowed is never blocked). */
  block(addr: string, opts: { reason?: number; ttlNs?: bigint } = {}): boolean {
    const reason = opts.reason ?? 0;
    if (!Number.isInteger(reason) || reason < 0 || reason > 0xffffffff) throw new RangeError(`bad block reason ${reason}`);
    const a = parseIp(addr), [allow, key] = this.#lpmKey(a.family, a.bytes, 8 * a.bytes.length);
    if (allow.lookup(key)) return false; // the tries' own longest-prefix match
    const ttl = opts.ttlNs ?? 0n;
    const now = this.now();
    const val = BlockVal.encode({ expires_ns: ttl > 0n ? now + ttl : 0n, reason, pad: 0, hits: 0n, added_ns: now, first_drop_ns: 0n });
    this.coll.map(MAPS.blocklist).update(blockKey(addr), val);
    return true;
  }

  /** Entries in the block list and its capacity. */
  blockListUse(): { entries: number; capacity: number } {
    return { entries: this.#entries(MAPS.blocklist), capacity: this.coll.map(MAPS.blocklist).maxEntries };
  }

  /** Replaces the never-block set of this host's own addresses (new ones in before old ones out). */
  setLocalAddresses(addrs: string[]): void {
    const m = this.coll.map(MAPS.localAddrs);
    const want = new Map(addrs.map(blockKey).map((k) => [Buffer.from(k).toString("hex"), k]));
    for (const key of want.values()) m.update(key, new Uint8Array(4));
    for (const [k] of m.entries()) if (!want.has(Buffer.from(k).toString("hex"))) m.delete(k);
  }

  unblock(addr: string): boolean {
    return this.coll.map(MAPS.blocklist).delete(blockKey(addr));
  }

  /** The block list in address order: IPv4 first, each family numerically (.2 before .10). */
  blocks(): BlockEntryInfo[] {
    const raw = [...this.coll.map(MAPS.blocklist).entries()], F = BlockKey.offsets.family!, A = BlockKey.offsets.addr!;
    // Keys read in place, IPv4 ones ranked by number: 100k entries in a fraction of the codecs' time.
    const rank = raw.map(([k]) => (k[F] === 4 ? k[A]! * 2 ** 24 + (k[A + 1]! << 16) + (k[A + 2]! << 8) + k[A + 3]! : 2 ** 32));
    return raw.map((_, i) => i).sort((a, b) => rank[a]! - rank[b]! || Buffer.compare(raw[a]![0], raw[b]![0])).map((i) => {
      const [k, v] = raw[i]!, val = BlockVal.decode(v), family = k[F] === 6 ? 6 : 4;
      return { addr: formatIp(family, k.subarray(A)), family, reason: val.reason, expiresNs: val.expires_ns, hits: val.hits, addedNs: val.added_ns, firstDropNs: val.first_drop_ns };
    });
  }

  /** Adds an allow-list CIDR (IPv4 or IPv6): matching sources are never dropped. Then lifts every
   *  block of an allowed source (a verdict racing with this saw the CIDR or is lifted): returned. */
  allow(cidr: string): string[] {
    const c = parseCidr(cidr);
    const [map, key] = this.#lpmKey(c.family, c.bytes, c.prefixLen);
    this.#allowUsed(c.family === 4 ? ALLOW_USED.v4 : ALLOW_USED.v6); // before: the kernel skips an empty list
    map.update(key, new Uint8Array(4));
    const [blocks, lifted] = [this.coll.map(MAPS.blocklist), [] as string[]];
    for (const [k] of blocks.entries()) {
      const { family, addr } = BlockKey.decode(k), f = family === 6 ? 6 : 4, [m, lk] = this.#lpmKey(f, addr.subarray(0, f === 6 ? 16 : 4), f === 6 ? 128 : 32);
      if (m.lookup(lk) && blocks.delete(k)) lifted.push(formatIp(f, addr));
    }
    return lifted;
  }

  disallow(cidr: string): boolean {
    const c = parseCidr(cidr);
    const [map, key] = this.#lpmKey(c.family, c.bytes, c.prefixLen);
    return map.delete(key) && (this.#allowUsed(), true); // after: a family's bit goes with its last CIDR
  }

  /** allow_used: `bits` and those of the lists that hold entries (the kernel skips the others). */
  #allowUsed(bits = 0): void {
    const has = (name: string, bit: number) => (this.coll.map(name).entries().next().done ? 0 : bit);
    this.coll.map(MAPS.allowUsed).update(new Uint8Array(4), new Uint8Array(new Uint32Array([bits | has(MAPS.allow4, ALLOW_USED.v4) | has(MAPS.allow6, ALLOW_USED.v6)]).buffer));
  }

  /** Every allow-list CIDR, read back from the kernel maps (e.g. after re-using pinned maps). */
  allowed(): string[] {
    const out: string[] = [];
    for (const [k] of this.coll.map(MAPS.allow4).entries()) {
      const key = Lpm4Key.decode(k);
      out.push(`${formatIp(4, key.addr)}/${key.prefixlen}`);
    }
    for (const [k] of this.coll.map(MAPS.allow6).entries()) {
      const key = Lpm6Key.decode(k);
      out.push(`${formatIp(6, key.addr)}/${key.prefixlen}`);
    }
    return out;
  }

  #lpmKey(family: 4 | 6, bytes: Uint8Array, prefixLen: number): [BpfMap, Uint8Array] {
    // Zero the host bits so "198.18.0.1/15" and "198.18.0.0/15" are the same entry.
    const masked = bytes.slice();
    for (let i = 0; i < masked.length; i++) {
      const keep = Math.max(0, Math.min(8, prefixLen - 8 * i));
      masked[i]! &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    }
    return family === 4
      ? [this.coll.map(MAPS.allow4), Lpm4Key.encode({ prefixlen: prefixLen, addr: masked })]
      : [this.coll.map(MAPS.allow6), Lpm6Key.encode({ prefixlen: prefixLen, addr: masked })];
  }

  // ---- counters ----

  /** Every counter slot summed across CPUs (index = enum xids_counter; one block per CPU). */
  counterArray(): bigint[] {
    const sums = this.#counters.sumU64(new Uint8Array(4)) ?? [];
    return Array.from({ length: NUM_COUNTERS }, (_, i) => sums[i] ?? 0n);
  }

  counter(name: keyof typeof Counter | string): bigint {
    const idx = COUNTER_NAMES.indexOf(name);
    if (idx === -1) throw new Error(`unknown counter '${name}'`);
    return this.counterArray()[idx]!;
  }

  /** Counters by name, plus `flows_live` and `flows_evicted` (started − ended − live: the kernel
   *  cannot see LRU eviction), the same for source contexts (`ctx_*`, with capacity and memory). */
  counters(): Record<string, bigint> {
    const arr = this.counterArray();
    const out: Record<string, bigint> = {};
    arr.forEach((v, i) => (out[COUNTER_NAMES[i]!] = v));
    const live = BigInt(this.liveFlows());
    out.flows_live = live;
    const evicted = arr[Counter.flows_started]! - arr[Counter.flows_ended]! - live;
    out.flows_evicted = evicted > 0n ? evicted : 0n;
    // Source contexts: created - live = evicted (an LRU map evicts silently), and their memory.
    const ctx = this.coll.map(MAPS.srcctx);
    const ctxLive = BigInt(this.#entries(MAPS.srcctx));
    out.ctx_live = ctxLive;
    const ctxEvicted = arr[Counter.ctx_new]! - ctxLive;
    out.ctx_evicted = ctxEvicted > 0n ? ctxEvicted : 0n;
    out.ctx_capacity = BigInt(ctx.maxEntries);
    out.ctx_bytes = BigInt(ctx.maxEntries * (ctx.keySize + ctx.valueSize));
    const use = this.blockListUse();
    [out.blocklist_entries, out.blocklist_capacity] = [BigInt(use.entries), BigInt(use.capacity)];
    return out;
  }

  /** Entries in both flow tables (walks the keys). */
  liveFlows(): number {
    return this.#entries(MAPS.flows4, MAPS.flows6);
  }

  /** Entries in these maps (walks their keys: a hash map keeps no count). */
  #entries(...names: string[]): number {
    let n = 0;
    for (const name of names) for (const _ of this.coll.map(name).entries()) n++;
    return n;
  }

  // ---- flow end outside traffic ----

  /** Runs xids_sweep until done: expire (idle/active timeouts at the data-plane clock) or flush
   *  (every flow, reason eoc). Records are drained between rounds so the ring never overflows. */
  sweep(mode: "expire" | "flush", sink: (r: FlowRecord) => void, maxPerRound = Math.max(1, Math.floor(this.#ringRecords() / 2))): number {
    if (!Number.isInteger(maxPerRound) || maxPerRound < 1) throw new RangeError(`bad records per sweep round: ${maxPerRound}`);
    let total = 0;
    // Expired blocks once a second, in the first round: the walk covers the whole list.
    let blocks = this.now() - this.#blocksSweptNs >= 1_000_000_000n ? ((this.#blocksSweptNs = this.now()), 1) : 0;
    for (;;) {
      const cmd = SweepCmd.encode({ magic: SWEEP_MAGIC, mode: mode === "flush" ? SweepMode.flush : SweepMode.expire, max_records: maxPerRound, blocks, visited: 0, ended: 0, blocks_expired: 0, pad: 0 });
      blocks = 0;
      const res = this.sweeper.testRun({ data: cmd });
      if (res.retval !== 2) throw new Error(`xids_sweep returned ${res.retval}`);
      const out = SweepCmd.decode(res.data);
      total += out.ended;
      this.drain(sink);
      // The program writes back the cap it actually used (it may lower ours, e.g. to what the
      // classifier takes in one run); a round that ends fewer flows than its cap was the last.
      if (out.ended < Math.min(maxPerRound, out.max_records || maxPerRound)) return total;
    }
  }

  /** How many records the ring buffer holds (each is FlowRecordStruct.size bytes + an 8-byte header). */
  #ringRecords(): number {
    return Math.max(1, Math.floor(this.coll.map(MAPS.events).maxEntries / (FlowRecordStruct.size + 8)));
  }

  /** Drains every available record from the ring buffer. */
  drain(sink: (r: FlowRecord) => void): number {
    const recs = this.events.consume();
    for (const b of recs) sink(decodeRecord(b));
    return recs.length;
  }

  close(): void {
    this.events.close();
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The key of a source in the block list (and local_addrs, srcctx, evidence: keyed alike). */
function blockKey(addr: string): Uint8Array {
  const a = parseIp(addr);
  return BlockKey.encode({ family: a.family, pad: new Uint8Array(3), addr: a.bytes });
}
