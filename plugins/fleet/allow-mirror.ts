// The fleet's allow list mirrored into this agent's data plane, re-watched from its start on every
// session like the blocks. An allow always wins: it lifts every block inside it, the fleet's and
// this agent's own, and no block inside it is applied or written. A deleted allow is taken out
// only if the fleet put it there (the config's `allow:` stays), and the fleet's blocks it covered
// apply again.
import type { KvWatchEntry } from "@nats-io/kv";
import type { DataPlanePort } from "../../core/plugin-api/services.ts";
import type { Logger } from "../../core/plugin-api/types.ts";
import { throttled } from "../../core/util/log.ts";
import { parseCidr } from "../../core/util/net.ts";
import type { BlockMirror } from "./block-mirror.ts";
import type { Session } from "./link.ts";
import { fromKey } from "./names.ts";
import { parseAllow } from "./records.ts";

export class AllowMirror {
  readonly stats = { applied: 0, removed: 0, invalid: 0 };
  /** CIDRs this mirror added to the data plane's allow list. */
  private readonly mine = new Set<string>();
  private readonly warn = throttled((m) => this.log.warn(m));

  constructor(
    private readonly dp: DataPlanePort,
    private readonly blocks: BlockMirror,
    private readonly log: Logger,
  ) {}

  async start(session: Session): Promise<void> {
    const watch = await session.stores.allows.watch();
    session.onEnd(() => watch.stop());
    void (async () => {
      try {
        for await (const e of watch) this.onEntry(e);
      } catch (err) {
        this.warn("watch", `allows watch failed: ${(err as Error).message}`);
      }
      session.restart("the allows watch stopped");
    })();
  }

  private onEntry(e: KvWatchEntry): void {
    const cidr = parseCidr(fromKey(e.key));
    if ("error" in cidr) return this.invalid(e.key, cidr.error);
    if (e.operation !== "PUT") {
      if (!this.mine.delete(cidr.cidr)) return;
      this.dp.disallow(cidr);
      this.stats.removed++;
      this.log.info(`allow ${cidr.cidr} removed from the fleet`);
      return this.blocks.uncover();
    }
    try {
      if (parseAllow(e.value).cidr !== cidr.cidr) return this.invalid(e.key, "its cidr is not the key's");
    } catch (err) {
      return this.invalid(e.key, (err as Error).message);
    }
    if (!this.dp.listAllowed().includes(cidr.cidr)) {
      this.dp.allow(cidr);
      this.mine.add(cidr.cidr);
      this.stats.applied++;
      this.log.info(`allow ${cidr.cidr} from the fleet`);
    }
    this.blocks.cover(cidr);
  }

  private invalid(key: string, why: string): void {
    this.stats.invalid++;
    this.warn("invalid", `allows bucket: ${key} ignored: ${why}`);
  }
}
