// The XDP-drop responder: puts the source of a detection into the kernel's block list, where the
// XDP program drops its packets until the TTL runs out (or an operator unblocks it). It is the
// one responder the core runs in line, synchronously and before every other responder, so no
// plugin (a hung webhook, a slow external process) can delay a block. Configured by
// `pipeline.block` (enabled, ttl_seconds, reason): the in-kernel model blocks with the same
// settings, compiled into the XDP program.
// Rules: a source on the allow list is never blocked, whatever the model says; a source the
// in-kernel model already blocked is not written twice; a failed map write is reported, not thrown.
import { Verdict, type FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import type { Logger } from "../../../core/plugins/types.ts";
import type { DataPlanePort } from "../../../core/runtime/ports.ts";
import { cidrContains, parseCidr, parseIp, type IpAddr } from "../../../core/runtime/net.ts";

export interface XdpDropSettings {
  enabled: boolean;
  ttl_seconds: number;
  reason: number;
}

export type DropAction =
  | { type: "blocked"; ttlSeconds: number; reason: number }
  | { type: "kernel-blocked"; ttlSeconds: number; reason: number }
  | { type: "allowed"; allow: string }
  | { type: "alert"; why: string }
  | { type: "failed"; error: string };

/** The allow-list CIDR containing `addr`, if any. */
export function allowListed(dp: DataPlanePort, addr: IpAddr): string | null {
  for (const c of dp.listAllowed()) {
    const cidr = parseCidr(c);
    if (!("error" in cidr) && cidrContains(cidr, addr)) return c;
  }
  return null;
}

export class XdpDropResponder {
  readonly stats = { blocks: 0, kernelBlocked: 0, skippedAllowed: 0, failures: 0 };

  constructor(
    readonly settings: XdpDropSettings,
    private readonly dp: DataPlanePort,
    private readonly log: Logger,
  ) {}

  /** Blocks the record's source (or says why not). */
  respond(record: FlowRecord): DropAction {
    if (!this.settings.enabled) return { type: "alert", why: "pipeline.block.enabled is false" };
    const addr = parseIp(record.srcAddr);
    if (!addr) return { type: "alert", why: `source ${JSON.stringify(record.srcAddr)} is not an address` };
    const allow = allowListed(this.dp, addr);
    if (allow) {
      this.stats.skippedAllowed++;
      this.log.info(`${addr.text} is on the allow list (${allow}): not blocked`);
      return { type: "allowed", allow };
    }
    const { ttl_seconds: ttlSeconds, reason } = this.settings;
    // An in-kernel ATTACK verdict has already blocked the source in the kernel (same settings).
    if (record.kernelVerdict === Verdict.VERDICT_ATTACK && this.dp.xdpMode !== "none") {
      this.stats.kernelBlocked++;
      return { type: "kernel-blocked", ttlSeconds, reason };
    }
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
}
