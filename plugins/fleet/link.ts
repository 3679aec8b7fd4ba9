// The agent's connection to the fleet. It connects in the background (an agent whose NATS is
// down starts and protects with its local state; the first connect is retried here, so a stop
// never waits on it), reconnects for ever, and on every (re)connect
// starts a new session: the buckets opened (created if missing) and the session handler run (the
// mirrors re-watch their buckets from the start, the outbox flushes). A session ends when the
// connection drops; a handler that fails is retried on the same connection with a backoff.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../core/plugin-api/types.ts";
import { throttled } from "../../core/util/log.ts";
import { openStores, type FleetStores } from "./buckets.ts";
import type { FleetConfig } from "./config.ts";
import { connectOptions, describeAuth } from "./connect-options.ts";
import type { FleetNames } from "./names.ts";

export type LinkState = "connecting" | "syncing" | "connected" | "disconnected" | "stopped";

/** One connection's view of the fleet, valid while `live`. */
export interface Session {
  readonly nc: NatsConnection;
  readonly stores: FleetStores;
  readonly live: boolean;
  /** Runs `fn` when the session ends (at once if it has). */
  onEnd(fn: () => void): void;
  /** Ends this session and starts a new one on the same connection (a watch that stopped). */
  restart(reason: string): void;
}

class LinkSession implements Session {
  live = true;
  stores!: FleetStores;
  private readonly cleanups: (() => void)[] = [];
  constructor(
    readonly nc: NatsConnection,
    readonly restart: (reason: string) => void,
  ) {}
  onEnd(fn: () => void): void {
    if (this.live) this.cleanups.push(fn);
    else fn();
  }
  end(): void {
    if (!this.live) return;
    this.live = false;
    for (const fn of this.cleanups.splice(0)) fn();
  }
}

export interface LinkOptions {
  config: FleetConfig;
  names: FleetNames;
  log: Logger;
  /** Brings the agent in line with the fleet on a new session; throws to be retried. */
  onSession(session: Session): Promise<void>;
  counters: { disconnects: number; syncFailures: number; serverErrors: number };
}

export class FleetLink {
  state: LinkState = "connecting";
  /** Why the link is not connected, in words ("" when it is). */
  reason = "connecting";
  private nc: NatsConnection | null = null;
  private session: LinkSession | null = null;
  private stopped = false;
  private readonly warn = throttled((m) => this.o.log.warn(m));

  constructor(private readonly o: LinkOptions) {}

  start(): void {
    void this.run();
  }

  get connected(): boolean {
    return this.state === "connected";
  }

  private async run(): Promise<void> {
    const { config } = this.o;
    this.o.log.info(`connecting to ${config.servers.join(", ")} as agent ${config.agent} (${describeAuth(config)})`);
    while (!this.stopped) {
      let nc: NatsConnection;
      try {
        nc = await connect({ ...connectOptions(config, `xids-${config.agent}`), timeout: 5_000, maxReconnectAttempts: -1, reconnectTimeWait: config.reconnect_wait_ms, reconnectJitter: 50, pingInterval: 10_000, maxPingOut: 2 });
      } catch (err) {
        this.down("connecting", `connect to ${config.servers.join(", ")}: ${(err as Error).message}`);
        await Bun.sleep(config.reconnect_wait_ms);
        continue;
      }
      if (this.stopped) {
        await nc.close().catch(() => {});
        break;
      }
      this.nc = nc;
      void this.followStatus(nc);
      this.o.log.info(`connected to ${nc.getServer()}`);
      this.beginSession(nc);
      const err = await nc.closed();
      this.nc = null;
      this.session?.end();
      if (this.stopped) break;
      this.down("disconnected", `connection closed${err ? `: ${err.message}` : ""}`);
      await Bun.sleep(config.reconnect_wait_ms);
    }
  }

  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.stopped) return;
      if (s.type === "disconnect") {
        this.o.counters.disconnects++;
        this.session?.end();
        this.down("disconnected", `lost the connection to ${s.server}; reconnecting (local protection goes on, writes are queued)`);
      } else if (s.type === "reconnect") {
        this.o.log.info(`reconnected to ${s.server}`);
        this.beginSession(nc);
      } else if (s.type === "error") {
        this.o.counters.serverErrors++;
        this.warn("server-error", `NATS server error: ${s.error.message}`);
      }
    }
  }

  private down(state: LinkState, reason: string): void {
    if (this.state !== state || this.reason !== reason) this.warn(state, reason);
    this.state = state;
    this.reason = reason;
  }

  private beginSession(nc: NatsConnection): void {
    this.session?.end();
    const session: LinkSession = new LinkSession(nc, (reason) => {
      if (!session.live || this.stopped) return;
      this.warn("restart", `re-syncing: ${reason}`);
      this.beginSession(nc);
    });
    this.session = session;
    this.state = "syncing";
    this.reason = "syncing with the fleet";
    void this.sync(session);
  }

  private async sync(session: LinkSession): Promise<void> {
    for (let delay = 250; session.live && !this.stopped; delay = Math.min(delay * 2, 5_000)) {
      try {
        session.stores = await openStores(session.nc, this.o.names);
        await this.o.onSession(session);
        if (!session.live) return;
        this.state = "connected";
        this.reason = "";
        this.o.log.info("in sync with the fleet");
        return;
      } catch (err) {
        if (!session.live || this.stopped) return;
        this.o.counters.syncFailures++;
        this.reason = `syncing with the fleet failed: ${(err as Error).message} (retry in ${delay} ms)`;
        this.warn("sync", this.reason);
        await Bun.sleep(delay);
      }
    }
  }

  /** The live session with its stores open (syncing or in sync), or null while disconnected. */
  current(): Session | null {
    return this.session?.live && this.session.stores ? this.session : null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = "stopped";
    this.session?.end();
    await this.nc?.close().catch(() => {});
  }
}
