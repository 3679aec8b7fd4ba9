// Link conditions for the testbed: delay, jitter, loss and rate limits on a host's link to the
// victim, drawn per host per run. This kernel has no netem qdisc, so delay, jitter and loss come
// from a user-space relay (test/tools/link-relay.c) in a namespace of its own between the host
// and the victim; rate limits from tbf on the relay's two interfaces.
//
//   host eth0 <-veth-> [relay ns: to-host  link-relay  to-victim] <-veth-> victim h<i> (XDP)
//
// Every parameter applies to each direction on its own: a frame host -> victim and a frame
// victim -> host are each held delayMs +- jitterMs, each lost with lossPct, each limited to
// rateKbit. A round trip therefore adds 2 x delayMs.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { rng } from "../../models/data/split.ts";
import { seedOf } from "./traffic/random.ts";
import type { Netns } from "../harness/netns.ts";

export type DelayDistribution = "uniform" | "normal";

export interface LinkCondition {
  /** Band name: "none", "lan", "wan-50ms", "lossy-1pct", ... (reports group by it). */
  label: string;
  /** One-way delay added in each direction, ms. */
  delayMs: number;
  /** Uniform: each frame's delay is in delayMs +- jitterMs. Normal: the standard deviation (cut at 3). */
  jitterMs: number;
  /** Share of frames lost in each direction, percent (independent per frame, seeded). */
  lossPct: number;
  /** Rate limit in each direction, kbit/s of Ethernet frames (tbf); none when absent. */
  rateKbit?: number;
  /** How the jitter is spread; uniform when absent. */
  distribution?: DelayDistribution;
  /**
   * Let a frame overtake an earlier one (independent delays, like netem). By default a frame
   * never leaves before the one ahead of it, as on a real path, so jitter only stretches gaps.
   */
  reorder?: boolean;
  /** Seed of the relay's loss and jitter draws; by default derived from the star's seed and the host. */
  seed?: number;
}

/** A plain veth: no relay, nothing added. */
export const NO_CONDITION: Readonly<LinkCondition> = Object.freeze({ label: "none", delayMs: 0, jitterMs: 0, lossPct: 0 });

/** Whether a condition needs a relay (anything but a plain link). */
export function needsRelay(c: LinkCondition): boolean {
  return c.delayMs > 0 || c.jitterMs > 0 || c.lossPct > 0 || c.rateKbit !== undefined;
}

export function validateCondition(c: LinkCondition): void {
  const bad = (what: string) => {
    throw new RangeError(`link condition ${c.label}: ${what}`);
  };
  if (!(c.delayMs >= 0 && c.delayMs <= 10_000)) bad(`delayMs ${c.delayMs} is not in 0..10000`);
  if (!(c.jitterMs >= 0 && c.jitterMs <= 10_000)) bad(`jitterMs ${c.jitterMs} is not in 0..10000`);
  if (!(c.lossPct >= 0 && c.lossPct <= 100)) bad(`lossPct ${c.lossPct} is not in 0..100`);
  if (c.rateKbit !== undefined && !(c.rateKbit >= 64 && c.rateKbit <= 10_000_000)) bad(`rateKbit ${c.rateKbit} is not in 64..10000000`);
  if (c.seed !== undefined && !(Number.isSafeInteger(c.seed) && c.seed >= 0)) bad(`seed ${c.seed} is not a non-negative integer`);
}

/** A family of conditions: each parameter is drawn uniformly from its range. */
export interface ConditionBand {
  label: string;
  /** Relative chance of this band. */
  weight: number;
  delayMs: readonly [number, number];
  /** Jitter as a share of the drawn delay. */
  jitterShare: readonly [number, number];
  lossPct: readonly [number, number];
  rateKbit?: readonly [number, number];
  distribution?: DelayDistribution;
}

/**
 * The testbed's bands: one-way delay 0-100 ms, jitter up to a quarter of the delay, loss 0-1 %,
 * rate limits from 2 to 50 Mbit/s. About one host in five keeps a plain link.
 */
export const CONDITION_BANDS: readonly ConditionBand[] = Object.freeze([
  { label: "none", weight: 2, delayMs: [0, 0], jitterShare: [0, 0], lossPct: [0, 0] },
  { label: "lan", weight: 2, delayMs: [0.1, 1], jitterShare: [0, 0.2], lossPct: [0, 0] },
  { label: "metro-10ms", weight: 1, delayMs: [5, 15], jitterShare: [0.05, 0.2], lossPct: [0, 0.05] },
  { label: "wan-50ms", weight: 1, delayMs: [30, 70], jitterShare: [0.05, 0.15], lossPct: [0, 0.1] },
  { label: "wan-100ms", weight: 1, delayMs: [80, 100], jitterShare: [0.05, 0.1], lossPct: [0, 0.1], distribution: "normal" },
  { label: "lossy-1pct", weight: 1, delayMs: [5, 40], jitterShare: [0.1, 0.25], lossPct: [0.5, 1] },
  { label: "dsl-16mbit", weight: 1, delayMs: [10, 30], jitterShare: [0.05, 0.15], lossPct: [0, 0.05], rateKbit: [8_000, 50_000] },
  { label: "mobile-4mbit", weight: 1, delayMs: [40, 90], jitterShare: [0.1, 0.25], lossPct: [0.1, 1], rateKbit: [2_000, 8_000] },
]);

// Rounded to the step, printed without binary noise (0.30000000000000004).
const round = (x: number, step: number) => Number((Math.round(x / step) * step).toFixed(6));
const pick = ([lo, hi]: readonly [number, number], u: number) => lo + (hi - lo) * u;

/** Draws one condition: a band by weight, then each parameter in the band's range. */
export function drawCondition(rand: () => number, bands: readonly ConditionBand[] = CONDITION_BANDS): LinkCondition {
  const total = bands.reduce((s, b) => s + b.weight, 0);
  if (!(total > 0)) throw new RangeError("drawCondition: the bands have no weight");
  let r = rand() * total;
  let band = bands[bands.length - 1]!;
  for (const b of bands) {
    if (r < b.weight) {
      band = b;
      break;
    }
    r -= b.weight;
  }
  // Every draw consumes the same number of values, so one band's parameters never shift the
  // next host's draws when several hosts share a generator.
  const [u1, u2, u3, u4, u5] = [rand(), rand(), rand(), rand(), rand()];
  const delayMs = round(pick(band.delayMs, u1), 0.1);
  const jitterMs = round(delayMs * pick(band.jitterShare, u2), 0.1);
  const lossPct = round(pick(band.lossPct, u3), 0.01);
  const c: LinkCondition = { label: band.label, delayMs, jitterMs: Math.min(jitterMs, delayMs), lossPct };
  if (band.rateKbit) c.rateKbit = Math.max(64, round(pick(band.rateKbit, u4), 100));
  if (band.distribution) c.distribution = band.distribution;
  if (needsRelay(c)) c.seed = Math.floor(u5 * 2 ** 32);
  return needsRelay(c) ? c : { ...NO_CONDITION };
}

/**
 * One condition per host id for a run: each host's draw depends only on the run's seed and its
 * own id, so adding or removing a scenario leaves every other host's link as it was.
 */
export function drawConditions(ids: readonly string[], seed: number, bands: readonly ConditionBand[] = CONDITION_BANDS): LinkCondition[] {
  return ids.map((id) => drawCondition(rng(seedOf(seed, `link:${id}`)), bands));
}

export function describeCondition(c: LinkCondition): string {
  if (!needsRelay(c)) return `${c.label}: plain link`;
  const delay = c.distribution === "normal" ? `${c.delayMs} ms (normal, sd ${c.jitterMs} ms)` : `${c.delayMs} +- ${c.jitterMs} ms`;
  const parts = [`${delay} each way`];
  if (c.lossPct > 0) parts.push(`${c.lossPct} % loss`);
  if (c.rateKbit !== undefined) parts.push(`${c.rateKbit} kbit/s`);
  return `${c.label}: ${parts.join(", ")}`;
}

// ---- the relay process ---------------------------------------------------------------------

export const LINK_RELAY_BIN = resolve(import.meta.dir, "..", "tools", "build", "link-relay");

/** The relay's interface names inside its namespace. */
export const RELAY_HOST_IFACE = "to-host";
export const RELAY_VICTIM_IFACE = "to-victim";

export interface RelayDirectionStats {
  /** Frames read from the input interface. */
  rx: number;
  forwarded: number;
  /** Ethernet bytes forwarded. */
  bytes: number;
  /** Dropped by the loss draw. */
  lost: number;
  /** Dropped because the relay's queue was full. */
  overflow: number;
  /** Refused on output: the tbf queue (rate limit) was full. */
  txDropped: number;
  oversize: number;
  /** Dropped by the kernel before the relay read them (it fell behind). */
  socketDrops: number;
  /** Still queued when the relay stopped. */
  flushed: number;
  maxQueue: number;
  /** How late frames left after their due time (scheduling), max and mean, µs. */
  lateMaxUs: number;
  lateMeanUs: number;
}

export interface RelayStats {
  /** Why the relay ended: "signal", "time-limit", "interface-gone", "error". */
  reason: string;
  elapsedS: number;
  cpuUserS: number;
  cpuSysS: number;
  hostToVictim: RelayDirectionStats;
  victimToHost: RelayDirectionStats;
}

export interface RelayOptions {
  condition: LinkCondition;
  seed: number;
  /** The relay ends by itself after this long, whatever happens to its parent. */
  timeLimitS: number;
  /** SCHED_FIFO priority (1-99) so frames leave on time on a busy machine; 0 runs it as a normal task. */
  rtPriority?: number;
}

function num(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== "number") throw new Error(`link-relay stats: ${key} is not a number`);
  return v;
}

function dirStats(o: unknown): RelayDirectionStats {
  if (typeof o !== "object" || o === null) throw new Error("link-relay stats: direction missing");
  const r = o as Record<string, unknown>;
  return {
    rx: num(r, "rx"), forwarded: num(r, "forwarded"), bytes: num(r, "bytes"), lost: num(r, "lost"), overflow: num(r, "overflow"),
    txDropped: num(r, "tx_dropped"), oversize: num(r, "oversize"), socketDrops: num(r, "socket_drops"), flushed: num(r, "flushed"),
    maxQueue: num(r, "max_queue"), lateMaxUs: num(r, "late_max_us"), lateMeanUs: num(r, "late_mean_us"),
  };
}

/** Parses the relay's one JSON line (a = the host side, b = the victim side). */
export function parseRelayStats(line: string): RelayStats {
  const o = JSON.parse(line) as Record<string, unknown>;
  if (typeof o.reason !== "string") throw new Error(`link-relay stats: no reason in ${line}`);
  return {
    reason: o.reason, elapsedS: num(o, "elapsed_s"), cpuUserS: num(o, "cpu_user_s"), cpuSysS: num(o, "cpu_sys_s"),
    hostToVictim: dirStats(o.a_to_b), victimToHost: dirStats(o.b_to_a),
  };
}

/** The relay's arguments for a condition (a = the host side, b = the victim side). */
export function relayArgs(opts: RelayOptions): string[] {
  const c = opts.condition;
  const argv = [
    "--a", RELAY_HOST_IFACE, "--b", RELAY_VICTIM_IFACE,
    "--delay-ms", String(c.delayMs), "--jitter-ms", String(c.jitterMs), "--loss-pct", String(c.lossPct),
    "--dist", c.distribution ?? "uniform", "--seed", String(opts.seed >>> 0), "--time-limit-s", String(opts.timeLimitS),
  ];
  if (c.reorder) argv.push("--reorder");
  if (opts.rtPriority) argv.push("--rt-priority", String(opts.rtPriority));
  return argv;
}

/**
 * tbf on egress: burst of 5 ms of traffic (at least two full frames), a queue of 100 ms of
 * traffic (at least 20 full frames), like a modem's buffer. Without it a rate limit would be
 * nothing but drops.
 */
export function tbfArgs(ifname: string, rateKbit: number): string[] {
  const bytesPerS = (rateKbit * 1000) / 8;
  const burst = Math.max(2 * 1514, Math.ceil(bytesPerS * 0.005));
  const limit = Math.max(20 * 1514, Math.ceil(bytesPerS * 0.1));
  return ["tc", "qdisc", "replace", "dev", ifname, "root", "tbf", "rate", `${rateKbit}kbit`, "burst", String(burst), "limit", String(limit)];
}

/** One relay process in its namespace. */
export class LinkRelay {
  #proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  #stderr = "";
  #stopping: Promise<RelayStats | null> | undefined;
  readonly exited: Promise<number>;

  private constructor(readonly ns: Netns, proc: Bun.Subprocess<"ignore", "pipe", "pipe">) {
    this.#proc = proc;
    this.exited = proc.exited;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** What the relay said on stderr (its errors). */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Starts the relay in ns (which holds to-host and to-victim) and returns once both of its
   * sockets are bound, so no frame crosses the link unrelayed or is lost to a late start.
   */
  static async start(ns: Netns, opts: RelayOptions): Promise<LinkRelay> {
    validateCondition(opts.condition);
    if (!existsSync(LINK_RELAY_BIN)) throw new Error(`${LINK_RELAY_BIN} is not built: run 'npm run setup' (make -f scripts/build.mk)`);
    if (opts.condition.rateKbit !== undefined) {
      for (const ifname of [RELAY_HOST_IFACE, RELAY_VICTIM_IFACE]) ns.execSync(tbfArgs(ifname, opts.condition.rateKbit));
    }
    const relay = new LinkRelay(ns, ns.spawn([LINK_RELAY_BIN, ...relayArgs(opts)]));
    try {
      await relay.#waitReady(5_000);
    } catch (err) {
      relay.kill();
      throw err;
    }
    return relay;
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const reader = this.#proc.stderr.getReader();
    const decoder = new TextDecoder();
    let signal!: (ready: boolean) => void;
    const ready = new Promise<boolean>((r) => (signal = r));
    // Keep draining stderr for the relay's whole life (a full pipe would stall it).
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#stderr += decoder.decode(value, { stream: true });
        if (this.#stderr.includes("ready\n")) signal(true);
      }
      signal(false);
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([ready, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    if (!ok) {
      const exit = this.#proc.exitCode;
      throw new Error(`link-relay in ${this.ns.name} did not start${exit !== null ? ` (exit ${exit})` : ` within ${timeoutMs} ms`}: ${this.#stderr.trim() || "(no output)"}`);
    }
  }

  /** Sends SIGTERM (for synchronous teardown); the relay also ends when its links disappear. */
  kill(): void {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill("SIGTERM");
  }

  /** Stops the relay and returns its counters (null if it died without printing them). Idempotent. */
  stop(): Promise<RelayStats | null> {
    this.#stopping ??= (async () => {
      this.kill();
      const exited = await Promise.race([this.exited.then(() => true), Bun.sleep(3_000).then(() => false)]);
      if (!exited) {
        this.#proc.kill("SIGKILL");
        await this.exited;
      }
      const out = (await new Response(this.#proc.stdout).text()).trim();
      const line = out.split("\n").at(-1) ?? "";
      try {
        return line ? parseRelayStats(line) : null;
      } catch {
        return null;
      }
    })();
    return this.#stopping;
  }
}
