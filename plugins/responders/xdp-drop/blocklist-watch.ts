// Says out loud what the kernel's block list is doing: a warning as it nears capacity, an error
// for every block it refused (those sources are NOT blocked), a warning for evictions, a note for
// attack verdicts on one-packet sources it passed over. Counters are the kernel's; the watch
// reports their growth every few seconds, so a flood gives one line per period, not one per flow.
import type { Logger } from "../../../core/plugin-api/types.ts";
import type { DataPlane } from "../../../core/ebpf/dataplane.ts";
import { Counter } from "../../../core/ebpf/abi.ts";

/** The share of the capacity at which the operator is warned. */
const HIGH_WATER = 0.9;

export class BlockListWatch {
  private seen = { failed: 0n, evicted: 0n, lonePacket: 0n, high: false };

  constructor(
    private readonly dp: DataPlane,
    private readonly whenFull: string,
    private readonly log: Logger,
  ) {}

  check(): void {
    // The kernel's counters and the list's size only (counters() would walk every flow table too).
    const k = this.dp.counterArray();
    const { entries, capacity } = this.dp.blockListUse();
    const high = entries >= capacity * HIGH_WATER;
    if (high && !this.seen.high) this.log.warn(`block list ${entries} of ${capacity} entries (dataplane.block_entries): when full, pipeline.block.when_full (${this.whenFull}) applies`);
    else if (!high && this.seen.high) this.log.info(`block list back to ${entries} of ${capacity} entries`);
    const failed = k[Counter.block_failed]!, evicted = k[Counter.block_evicted]!, lonePacket = k[Counter.block_lone_packet]!;
    if (failed > this.seen.failed) this.log.error(`${failed - this.seen.failed} block(s) the kernel's block list refused (${entries} of ${capacity} entries; when_full ${this.whenFull}): those sources are NOT blocked`);
    if (evicted > this.seen.evicted) this.log.warn(`${evicted - this.seen.evicted} block(s) evicted to make room in the full block list (${capacity} entries)`);
    if (lonePacket > this.seen.lonePacket) this.log.info(`${lonePacket - this.seen.lonePacket} attack verdict(s) on sources that sent a single packet, not blocked (they may be spoofed; pipeline.block.lone_packet_sources)`);
    this.seen = { failed, evicted, lonePacket, high };
  }
}
