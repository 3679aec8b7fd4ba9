// Where the fleet keeps what, under one prefix: the KV buckets, the detections stream and its
// subjects, the model object store. Names are written once here, for the agents and the CLI.

export interface FleetNames {
  /** KV: source address -> BlockRecord. */
  blocks: string;
  /** KV: CIDR -> AllowRecord. */
  allows: string;
  /** KV: agent name -> AgentStatus. */
  agents: string;
  /** KV: ACTIVE_MODEL_KEY -> ActiveModel. */
  rollout: string;
  /** Object store of model bundles. */
  models: string;
  /** JetStream stream of every agent's detections. */
  detections: string;
  /** The subject an agent publishes its detections on. */
  detectionSubject(agent: string): string;
}

export const ACTIVE_MODEL_KEY = "active";

export function fleetNames(prefix: string): FleetNames {
  return {
    blocks: `${prefix}-blocks`,
    allows: `${prefix}-allows`,
    agents: `${prefix}-agents`,
    rollout: `${prefix}-rollout`,
    models: `${prefix}-models`,
    detections: `${prefix}-detections`,
    detectionSubject: (agent) => `${prefix}.detections.${agent}`,
  };
}

// KV keys are subject tokens ([-/_=.A-Za-z0-9]): an IPv6 address's ':' is written '_', which no
// address or CIDR contains, so the key maps back to the address (a deleted entry has no value).

/** The KV key of an address or CIDR. */
export function keyOf(addressOrCidr: string): string {
  return addressOrCidr.replaceAll(":", "_");
}

/** The address or CIDR a KV key stands for. */
export function fromKey(key: string): string {
  return key.replaceAll("_", ":");
}
