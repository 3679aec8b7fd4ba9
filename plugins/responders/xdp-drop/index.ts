// The XDP-drop responder: puts the source of a detection into the kernel's block list, where the
// XDP program drops its packets until the TTL runs out (or an operator unblocks it). It is an
// inline responder: the core runs it before every other responder and puts what it did into the
// detection they receive, so no plugin (a hung webhook, a slow external process) can delay a
// block. Configured by `pipeline.block` (enabled, ttl_seconds, reason): the in-kernel model
// blocks with the same settings, written into the XDP program's block settings (a reload changes
// both: this object is updated in place).
// Rules: a source on the allow list, and an address that is never a source to block (loopback,
// link-local, multicast, broadcast, unspecified, this host's own), is never blocked, whatever the
// model says; a failed map write is reported, not thrown. An in-kernel attack verdict was acted
// on in the kernel already: what is reported is what the kernel did (the record's kernel_block),
// never an assumption.
import { KernelBlock, Verdict, type FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { Ack } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { s } from "../../../core/config/schema.ts";
import { pluginInfo, serving } from "../../../core/plugin-api/info.ts";
import { definePlugin, type Logger } from "../../../core/plugin-api/types.ts";
import { coreServices, type DataPlanePort } from "../../../core/plugin-api/services.ts";
import { neverBlockReason, parseIp } from "../../../core/util/net.ts";
import { BlockListWatch } from "./blocklist-watch.ts";

const WATCH_MS = 2_000;

export interface XdpDropSettings {
  enabled: boolean;
  ttl_seconds: number;
  reason: number;
  min_attacks: number;
  min_attack_pct: number;
  window_seconds: number;
}

export type DropAction =
  | { type: "blocked"; ttlSeconds: number; reason: number }
  | { type: "kernel-blocked"; ttlSeconds: number; reason: number }
  | { type: "allowed"; allow: string }
  | { type: "refused"; why: string }
  | { type: "not-yet"; why: string }
  | { type: "alert"; why: string }
  | { type: "failed"; error: string };

export class XdpDropResponder {
  readonly stats = { blocks: 0, kernelBlocked: 0, skippedAllowed: 0, refused: 0, failures: 0, notYet: 0 };

  constructor(
    readonly settings: XdpDropSettings,
    private readonly dp: DataPlanePort,
    private readonly log: Logger,
  ) {}

  /** Blocks the record's source (or says why not). */
  respond(record: FlowRecord): DropAction {
    if (record.kernelVerdict === Verdict.VERDICT_ATTACK && this.dp.xdpMode !== "none") return this.kernelAction(record);
    if (!this.settings.enabled) return { type: "alert", why: "pipeline.block.enabled is false" };
    const addr = parseIp(record.srcAddr);
    if (!addr) return { type: "alert", why: `source ${JSON.stringify(record.srcAddr)} is not an address` };
    const never = neverBlockReason(addr) ?? (this.dp.isLocal(addr) ? "an address of this host" : null);
    if (never) {
      this.stats.refused++;
      this.log.warn(`${addr.text} is ${never}: never blocked`);
      return { type: "refused", why: `${addr.text} is ${never}` };
    }
    const allow = this.dp.allowListed(addr);
    if (allow) {
      this.stats.skippedAllowed++;
      this.log.info(`${addr.text} is on the allow list (${allow}): not blocked`);
      return { type: "allowed", allow };
    }
    const { ttl_seconds: ttlSeconds, reason } = this.settings;
    try {
      this.dp.block(addr, ttlSeconds, reason);
    } catch (err) {
      this.stats.failures++;
      this.log.error(`block ${addr.text} failed: ${(err as Error).message}`);
      return { type: "failed", error: (err as Error).message };
    }
    this.stats.blocks++;
    return { type: "blocked", ttlSeconds, reason };
  }

  /** What the kernel did on its own attack verdict, as the record says. */
  private kernelAction(r: FlowRecord): DropAction {
    const { ttl_seconds: ttlSeconds, reason, min_attacks, min_attack_pct, window_seconds } = this.settings;
    switch (r.kernelBlock) {
      case KernelBlock.KERNEL_BLOCK_BLOCKED:
        this.stats.kernelBlocked++;
        return { type: "kernel-blocked", ttlSeconds, reason };
      case KernelBlock.KERNEL_BLOCK_NOT_YET:
        this.stats.notYet++;
        return { type: "not-yet", why: `${r.kernelEvidence} of ${min_attacks} attack verdicts (at least ${min_attack_pct} % of the source's) in ${window_seconds} s: not blocked yet` };
      case KernelBlock.KERNEL_BLOCK_LONE_PACKET:
        this.stats.notYet++;
        return { type: "not-yet", why: "the source sent a single packet and nothing else (it may be spoofed; pipeline.block.lone_packet_sources): not blocked" };
      case KernelBlock.KERNEL_BLOCK_ALLOWED: {
        this.stats.skippedAllowed++;
        const addr = parseIp(r.srcAddr);
        return { type: "allowed", allow: (addr && this.dp.allowListed(addr)) ?? "the allow list" };
      }
      case KernelBlock.KERNEL_BLOCK_NEVER:
        this.stats.refused++;
        return { type: "refused", why: `${r.srcAddr} is an address of this host` };
      case KernelBlock.KERNEL_BLOCK_ALERT:
        return { type: "alert", why: "pipeline.block.enabled is false" };
      case KernelBlock.KERNEL_BLOCK_FAILED: {
        this.stats.failures++;
        const why = blockErrorText(r.kernelBlockError);
        this.log.error(`kernel block of ${r.srcAddr} failed: ${why}`);
        return { type: "failed", error: `the kernel's block list refused ${r.srcAddr}: ${why}` };
      }
      default:
        this.stats.failures++;
        return { type: "failed", error: `the kernel gave an attack verdict but no block decision (kernel_block ${r.kernelBlock})` };
    }
  }
}

/** A failed block-list update's errno, in words. */
function blockErrorText(negErrno: number): string {
  if (negErrno === -7) return "the block list is full (E2BIG; dataplane.block_entries, pipeline.block.when_full)";
  if (negErrno === -12) return "out of memory (ENOMEM)";
  return `error ${negErrno}`;
}

/** The Ack an inline responder returns: Detection.action, TTL, and the detail in `message`. */
export function ackOf(a: DropAction): Ack {
  switch (a.type) {
    case "blocked":
    case "kernel-blocked":
      return Ack.create({ accepted: true, action: a.type, blockTtlSeconds: a.ttlSeconds });
    case "allowed":
      return Ack.create({ accepted: true, action: a.type, message: a.allow });
    case "alert":
    case "refused":
    case "not-yet":
      return Ack.create({ accepted: true, action: a.type, message: a.why });
    case "failed":
      return Ack.create({ accepted: true, action: a.type, message: a.error });
  }
}

export const xdpDrop = () =>
  definePlugin({
    name: "xdp-drop",
    kind: "responder",
    description: "block the source in the kernel's XDP block list (inline, before other responders)",
    config: s.object({}),
    inline: true,
    deps: { dataplane: coreServices.dataplane, block: coreServices.blockSettings, metrics: coreServices.metrics },
    async init(ctx) {
      const r = new XdpDropResponder(ctx.deps.block, ctx.deps.dataplane, ctx.log);
      ctx.deps.metrics.read("xids_xdp_drop_failures_total", "Blocks the XDP-drop responder could not write (see the log for the reason).", "counter", () => r.stats.failures);
      const kernel = ctx.deps.dataplane.kernel;
      if (kernel) {
        const watch = new BlockListWatch(kernel, ctx.deps.block.when_full, ctx.log);
        const capacity = kernel.blockListUse().capacity; // fixed when the object was loaded
        ctx.deps.metrics.read("xids_blocklist_entries", "Entries in the kernel's block list (expired ones until swept).", "gauge", () => kernel.blockListUse().entries);
        ctx.deps.metrics.read("xids_blocklist_capacity", "Capacity of the kernel's block list (dataplane.block_entries).", "gauge", () => capacity);
        const timer = setInterval(() => {
          try {
            watch.check();
          } catch (err) {
            ctx.log.error(`block list watch: ${(err as Error).message}`);
          }
        }, WATCH_MS);
        ctx.signal.addEventListener("abort", () => clearInterval(timer));
      }
      return {
        describe: async () =>
          pluginInfo(ctx.id, "responder", "1", "XDP block list", {
            enabled: String(ctx.deps.block.enabled),
            ttl_seconds: String(ctx.deps.block.ttl_seconds),
            reason: String(ctx.deps.block.reason),
            xdp_mode: ctx.deps.dataplane.xdpMode,
          }),
        health: async () => serving(),
        handle: async (d) => ackOf(d.record ? r.respond(d.record) : { type: "alert", why: "detection without a flow record" }),
      };
    },
  });
