// The fleet plugin: many agents as one system on NATS JetStream (README.md). Selected by the
// config's top-level `fleet:` section, which the core turns into this responder's instance.
import { coreServices } from "../../core/plugin-api/services.ts";
import { definePlugin } from "../../core/plugin-api/types.ts";
import { fleetConfig } from "./config.ts";
import { FleetAgent } from "./fleet-agent.ts";

export const fleetPlugin = () =>
  definePlugin({
    name: "fleet",
    kind: "responder",
    description: "share blocks, allows, detections, status and models with the other agents over NATS JetStream",
    config: fleetConfig,
    deps: { dataplane: coreServices.dataplane, metrics: coreServices.metrics, block: coreServices.blockSettings, model: coreServices.model },
    async init(ctx) {
      const fleet = new FleetAgent(ctx.id, ctx.config, { dataplane: ctx.deps.dataplane, model: ctx.deps.model, blockReason: ctx.deps.block.reason }, ctx.log);
      const m = ctx.deps.metrics;
      const { outbox, blocks, allows, rollout, heartbeat, counters } = fleet;
      m.read("xids_fleet_connected", "1 while the agent is in sync with the fleet's NATS servers, else 0.", "gauge", () => (fleet.link.connected ? 1 : 0));
      m.read("xids_fleet_disconnects_total", "Connections to NATS lost.", "counter", () => counters.disconnects);
      m.read("xids_fleet_sync_failures_total", "Session starts (opening the buckets, watching them) that failed and were retried.", "counter", () => counters.syncFailures);
      m.read("xids_fleet_queued", "Blocks and detections waiting for NATS.", "gauge", () => outbox.queued);
      m.read("xids_fleet_queue_dropped_total", "Blocks and detections dropped because the queue was full (fleet.queue_size).", "counter", () => outbox.stats.dropped);
      m.read("xids_fleet_writes_refused_total", "Writes the NATS server refused (permissions): dropped, see the log.", "counter", () => outbox.stats.refused + heartbeat.stats.refused);
      m.read("xids_fleet_write_failures_total", "Writes that failed (connection, timeout) and were kept for a retry.", "counter", () => outbox.stats.failures + heartbeat.stats.failures);
      m.read("xids_fleet_published_total", "Blocks and detections written to the fleet.", "counter", () => outbox.stats.sent);
      m.read("xids_fleet_blocks_mirrored", "Fleet blocks held in this agent's data plane.", "gauge", () => blocks.size);
      m.read("xids_fleet_blocks_applied_total", "Fleet blocks applied to the data plane.", "counter", () => blocks.stats.applied);
      m.read("xids_fleet_blocks_lifted_total", "Fleet blocks lifted (deleted from the fleet's list).", "counter", () => blocks.stats.lifted);
      m.read("xids_fleet_blocks_expired_total", "Fleet blocks that ran out.", "counter", () => blocks.stats.expired);
      m.read("xids_fleet_blocks_allowed_total", "Fleet blocks not applied because an allow covers the source.", "counter", () => blocks.stats.allowed);
      m.read("xids_fleet_block_failures_total", "Fleet blocks the data plane could not take (see the log).", "counter", () => blocks.stats.failures);
      m.read("xids_fleet_invalid_entries_total", "Bucket entries ignored because they are not valid records (see the log).", "counter", () => blocks.stats.invalid + allows.stats.invalid);
      m.read("xids_fleet_allows_applied_total", "Fleet allows added to the data plane.", "counter", () => allows.stats.applied);
      m.read("xids_fleet_models_taken_total", "Fleet models hot-swapped in.", "counter", () => rollout.stats.taken);
      m.read("xids_fleet_models_rejected_total", "Fleet models refused (checksum, artifact checks, the model plugin), see the status.", "counter", () => rollout.stats.rejected);
      fleet.start();
      return fleet;
    },
    async stop(api) {
      if (api instanceof FleetAgent) await api.close();
    },
  });

export { FleetAgent };
