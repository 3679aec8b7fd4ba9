// Opens the fleet's buckets, stream and object store on a connection, creating each one that is
// missing (the first agent, or the CLI, sets the fleet up; the rest bind to what is there).
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { FleetNames } from "./names.ts";

export interface FleetStores {
  js: JetStreamClient;
  blocks: KV;
  allows: KV;
  agents: KV;
  rollout: KV;
  models: ObjectStore;
}

/** How long the detections stream keeps a detection (when this code creates the stream). */
const DETECTIONS_MAX_AGE_MS = 7 * 24 * 3_600_000;
const DETECTIONS_MAX_BYTES = 1 << 30;

export async function openStores(nc: NatsConnection, names: FleetNames, timeoutMs = 5_000): Promise<FleetStores> {
  const js = jetstream(nc, { timeout: timeoutMs });
  const kvm = new Kvm(js);
  const [blocks, allows, agents, rollout] = await Promise.all([kvm.create(names.blocks), kvm.create(names.allows), kvm.create(names.agents), kvm.create(names.rollout)]);
  const models = await new Objm(js).create(names.models);
  await ensureDetectionsStream(nc, names, timeoutMs);
  return { js, blocks, allows, agents, rollout, models };
}

async function ensureDetectionsStream(nc: NatsConnection, names: FleetNames, timeoutMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
  try {
    await jsm.streams.info(names.detections);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
    await jsm.streams.add({ name: names.detections, subjects: [names.detectionSubject("*")], max_age: nanos(DETECTIONS_MAX_AGE_MS), max_bytes: DETECTIONS_MAX_BYTES });
  }
}
