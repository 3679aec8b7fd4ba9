// The narrow ports the core needs from its neighbours. The data plane (core/dataplane) and the
// models code (models/) implement them through adapters (dataplane-adapter.ts, model-adapter.ts);
// the core, the control API and plugins only ever see these interfaces.
import type { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Cidr, IpAddr } from "./net.ts";

export interface BlockedEntry {
  address: string;
  /** 0 = permanent. */
  expiresInMs: number;
  reason: number;
  hits: number;
}

export interface DataPlanePort {
  readonly ifname: string;
  /** "native" / "generic": XDP attached in that mode; "none": no interface attached. */
  readonly xdpMode: "native" | "generic" | "none";
  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedEntry;
  /** False when the address was not blocked. */
  unblock(addr: IpAddr): boolean;
  listBlocked(): BlockedEntry[];
  allow(cidr: Cidr): void;
  /** False when the CIDR was not in the allow list. */
  disallow(cidr: Cidr): boolean;
  listAllowed(): string[];
  /** Kernel counters by name, summed across CPUs. */
  stats(): Record<string, number>;
  /** Ended-flow records; returns the unsubscribe function. */
  onFlow(sink: (record: FlowRecord) => void): () => void;
  /** Records lost before user space saw them (ring buffer full). */
  lostRecords(): number;
  close(): Promise<void>;
}

/** A model artifact checked by the models code: enough for the core to route and report it. */
export interface ModelArtifact {
  dir: string;
  name: string;
  kind: string;
  version: number;
  /** The models code's own loaded representation, passed through untouched. */
  loaded: unknown;
}

export interface ArtifactLoader {
  /** Throws with the reason if the directory is not a valid artifact. */
  load(dir: string): Promise<ModelArtifact>;
}

/** Takes a checked artifact live (the in-kernel MLP: parameter slot swap). */
export interface ModelUpdater {
  push(artifact: ModelArtifact): Promise<{ version: number }>;
  current(): { name: string; version: number } | null;
  /** False while the kernel side is not wired: artifacts are checked and recorded only. */
  readonly wired: boolean;
}

export interface CoreServices {
  dataplane: DataPlanePort;
  artifacts: ArtifactLoader;
  modelUpdater: ModelUpdater;
}
