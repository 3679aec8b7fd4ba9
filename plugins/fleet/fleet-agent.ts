// One agent's part in the fleet, as a responder: it hears every detection (after the inline
// XDP-drop responder, so it knows what was really done), publishes it to the detections stream and
// writes the blocks this agent made to the fleet's block list; in the background it mirrors the
// fleet's blocks and allows into the data plane, follows model rollouts and writes its status.
// Health is "not serving" while NATS is out of reach (the core shows the plugin degraded); local
// protection never waits on NATS.
import { Ack } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { notServing, pluginInfo, serving } from "../../core/plugin-api/info.ts";
import type { DataPlanePort, ModelInUse } from "../../core/plugin-api/services.ts";
import type { Detection, HealthResponse, Logger, PluginInfo, ResponderApi } from "../../core/plugin-api/types.ts";
import { parseIp } from "../../core/util/net.ts";
import { VERSION } from "../../core/util/version.ts";
import { AllowMirror } from "./allow-mirror.ts";
import { BlockMirror } from "./block-mirror.ts";
import type { FleetConfig } from "./config.ts";
import { blockOf, detectionEvent } from "./detection.ts";
import { Heartbeat } from "./heartbeat.ts";
import { FleetLink, type Session } from "./link.ts";
import { fleetNames, keyOf, type FleetNames } from "./names.ts";
import { Outbox } from "./outbox.ts";
import type { AgentStatus, BlockRecord } from "./records.ts";
import { ModelRollout } from "./rollout.ts";

export interface FleetDeps {
  dataplane: DataPlanePort;
  model: ModelInUse;
  /** pipeline.block.reason: the reason code of this agent's blocks. */
  blockReason: number;
}

export class FleetAgent implements ResponderApi {
  readonly names: FleetNames;
  readonly link: FleetLink;
  readonly outbox: Outbox;
  readonly blocks: BlockMirror;
  readonly allows: AllowMirror;
  readonly rollout: ModelRollout;
  readonly heartbeat: Heartbeat;
  readonly counters = { disconnects: 0, syncFailures: 0, serverErrors: 0 };
  private stopping = false;

  constructor(
    private readonly id: string,
    readonly config: FleetConfig,
    private readonly deps: FleetDeps,
    private readonly log: Logger,
  ) {
    const { dataplane: dp } = deps, agent = config.agent;
    this.names = fleetNames(config.prefix);
    const session = () => this.link.current();
    this.outbox = new Outbox(config.queue_size, this.names, agent, log, session, (r) => this.skipBlock(r));
    this.blocks = new BlockMirror(dp, agent, log, (key) => this.outbox.hasBlock(key));
    this.allows = new AllowMirror(dp, this.blocks, log);
    this.rollout = new ModelRollout(agent, dp.settings.state_dir, deps.model, log, () => void this.heartbeat.beat());
    this.heartbeat = new Heartbeat(agent, config.heartbeat_ms, log, session, () => this.status("running"));
    this.link = new FleetLink({ config, names: this.names, log, counters: this.counters, onSession: (s) => this.onSession(s) });
  }

  start(): void {
    this.link.start();
  }

  /** A new session: watch the buckets from their start, then say who we are and send what waits. */
  private async onSession(s: Session): Promise<void> {
    await this.allows.start(s);
    await this.blocks.start(s);
    await this.rollout.start(s);
    await this.heartbeat.beat(s);
    this.outbox.drain();
  }

  /** Why this agent's own block must not reach the fleet's list after all, or null. */
  private skipBlock(r: BlockRecord): string | null {
    const addr = parseIp(r.source);
    const allow = addr && this.deps.dataplane.allowListed(addr);
    if (allow) return `the allow list has ${allow} now`;
    if (r.expires_at_ms !== 0 && r.expires_at_ms <= Date.now()) return "it expired before NATS could take it";
    return null;
  }

  status(state: AgentStatus["state"]): AgentStatus {
    const dp = this.deps.dataplane;
    return {
      agent: this.config.agent,
      state,
      version: VERSION,
      at_ms: Date.now(),
      heartbeat_ms: this.config.heartbeat_ms,
      model: this.deps.model.current(),
      model_sha256: this.rollout.sha256,
      model_rejected: this.rollout.rejected,
      blocks: dp.kernel ? dp.kernel.blockListUse().entries : dp.listBlocked().length,
      xdp_mode: dp.xdpMode,
      interface: dp.ifname,
      queued: this.outbox.queued,
      dropped: this.outbox.stats.dropped,
    };
  }

  // ---- ResponderApi ----

  async describe(): Promise<PluginInfo> {
    return pluginInfo(this.id, "responder", "1", "fleet link over NATS JetStream", {
      agent: this.config.agent,
      servers: this.config.servers.join(","),
      prefix: this.config.prefix,
      state: this.link.state,
    });
  }

  async health(): Promise<HealthResponse> {
    if (this.link.connected) return serving(`in sync with the fleet as ${this.config.agent}`);
    return notServing(`fleet ${this.link.state}: ${this.link.reason}`);
  }

  async handle(d: Detection): Promise<Ack> {
    const agent = this.config.agent;
    this.outbox.publishDetection(d.id, detectionEvent(d, agent));
    const block = blockOf(d, agent, this.deps.blockReason);
    if (block) {
      const key = keyOf(block.source);
      this.blocks.decided(key, block);
      this.outbox.putBlock(key, block);
    }
    return Ack.create({ accepted: true });
  }

  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.heartbeat.close();
    this.blocks.close();
    const s = this.link.current();
    // Bounded: a stop never waits long on a NATS that is not there.
    if (s) await s.stores.agents.put(this.config.agent, JSON.stringify(this.status("stopped")), { timeout: 1_000 }).catch(() => {});
    this.outbox.close();
    await this.link.stop();
  }
}
