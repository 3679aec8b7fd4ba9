// This agent's line in the fleet status: written to the agents bucket under its name every
// heartbeat_ms and at once on every new session. Never queued: the next heartbeat replaces a lost
// one. A write the server refuses (permissions) is counted and logged with the server's reason.
import type { Logger } from "../../core/plugin-api/types.ts";
import { throttled } from "../../core/util/log.ts";
import type { Session } from "./link.ts";
import { isPermissionError } from "./nats-errors.ts";
import { encodeJson, type AgentStatus } from "./records.ts";

export class Heartbeat {
  readonly stats = { written: 0, refused: 0, failures: 0 };
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly warn = throttled((m) => this.log.warn(m));

  constructor(
    private readonly agent: string,
    intervalMs: number,
    private readonly log: Logger,
    private readonly session: () => Session | null,
    private readonly status: () => AgentStatus,
  ) {
    this.timer = setInterval(() => void this.beat(), intervalMs);
  }

  /** Writes the status now (a new session, a model taken or refused). */
  async beat(session = this.session()): Promise<void> {
    if (!session?.live) return;
    try {
      await session.stores.agents.put(this.agent, encodeJson(this.status()));
      this.stats.written++;
    } catch (err) {
      if (isPermissionError(err)) {
        this.stats.refused++;
        this.warn("refused", `the NATS server refused this agent's status write (${err.message}): check its NATS permissions`);
      } else {
        this.stats.failures++;
        this.warn("failed", `status write failed: ${(err as Error).message}`);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
