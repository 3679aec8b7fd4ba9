// The TypeScript face of bpf/xids.h: constants, enums, map and program names, counter names.
// test/dataplane/abi.test.ts checks all of it against the header and the object's BTF, so the
// two sides cannot drift apart silently.
import { defineStruct } from "../../native/struct.ts";

export const BPF_OBJECT = "bpf/build/xids.bpf.o";

/** The maps user space opens by name; allowUsed: ALLOW_USED; localAddrs: this host's own addresses (never blocked);
 *  evidence: the block policy's verdicts per source; stages: the tail calls (bpf/classify.h). */
export const MAPS = {
  flows4: "flows4", flows6: "flows6", blocklist: "blocklist", allow4: "allow4", allow6: "allow6", allowUsed: "allow_used", localAddrs: "local_addrs",
  counters: "counters", events: "events", scratch: "scratch", srcctx: "srcctx", evidence: "evidence", stages: "classify_progs",
} as const;

export const PROGRAMS = { xdp: "xids_xdp", sweep: "xids_sweep", selfSweep: "xids_self_sweep" } as const;

/** enum xids_stage: the data plane installs SWEEP; the kernel model plugin ENTRY and LAYER. */
export const STAGE_SWEEP = 2;

export const TEST_CLOCK_GLOBAL = "test_clock_ns";

/** The flow rules' settings (the kernel's knobs and the reference's), in the data plane's units. */
export interface DataPlaneConfig {
  idleTimeoutNs: bigint;
  activeTimeoutNs: bigint;
  /** 0 = off */
  earlyEndPkts: number;
  dropMalformed: boolean;
  trackFlows: boolean;
  /** Bare TCP packets (no SYN, no payload) on a 5-tuple whose flow ended on FIN/RST within this
   *  time are counted, not made a new flow (cfg_tail_absorb_ns). 0 = CICFlowMeter's behaviour. */
  tailAbsorbNs: bigint;
}

/** The object's own defaults (xids.bpf.c): CICFlowMeter's 60 s idle and 120 s active timeouts. */
export const DEFAULT_CONFIG: DataPlaneConfig = {
  idleTimeoutNs: 60_000_000_000n, activeTimeoutNs: 120_000_000_000n, earlyEndPkts: 0,
  dropMalformed: false, trackFlows: true, tailAbsorbNs: 5_000_000_000n,
};

/** cfg_model_action: what an in-kernel attack verdict does. */
export const ModelAction = { ALERT: 0, BLOCK: 1 } as const;

/** Features (FEATURES.md): the flow's own (0..21), its source's context at flow end (22..31), its
 *  first forward TCP payload's scan (32..34), what its forward ACKs acknowledged (35..36). */
export const NUM_FLOW_FEATURES = 22;
export const NUM_CONTEXT_FEATURES = 10;
export const NUM_PAYLOAD_FEATURES = 3;
export const NUM_ACKED_FEATURES = 2;
export const NUM_FEATURES = NUM_FLOW_FEATURES + NUM_CONTEXT_FEATURES + NUM_PAYLOAD_FEATURES + NUM_ACKED_FEATURES;
/** FlowRecord.feature_set by feature count: v4 is what this data plane emits. Each set is a
 *  prefix of the next, so a model of an older set reads a newer record's first values. */
export const FEATURE_SETS: Readonly<Record<number, string>> = {
  [NUM_FLOW_FEATURES]: "xids.features.v1",
  [NUM_FLOW_FEATURES + NUM_CONTEXT_FEATURES]: "xids.features.v2",
  [NUM_FLOW_FEATURES + NUM_CONTEXT_FEATURES + NUM_PAYLOAD_FEATURES]: "xids.features.v3",
  [NUM_FEATURES]: "xids.features.v4",
};
export const MAX_VLAN = 2;
export const MAX_IPV6_EXT = 8;
export const MAX_HDR_OFF = 1024;
export const MAX_BLOCK_REASONS = 16;
export const SWEEP_MAGIC = 0x58534550;
export const ALLOW_USED = { v4: 0x1, v6: 0x2 } as const; // allow_used bits: the family's list holds entries

export const EndReason = { none: 0, fin: 1, rst: 2, idle: 3, active: 4, early: 5, overflow: 6, eoc: 7 } as const;
export type EndReasonName = keyof typeof EndReason;
export const END_REASON_NAMES: readonly EndReasonName[] = ["none", "fin", "rst", "idle", "active", "early", "overflow", "eoc"];

export const Verdict = { none: 0, benign: 1, attack: 2 } as const;
export const VERDICT_NAMES = ["none", "benign", "attack"] as const;

export const SweepMode = { expire: 0, flush: 1 } as const;

/** enum xids_counter: each counter's slot and what it counts (its help on /metrics), by name. */
const COUNTERS = {
  pkts_seen: [0, "Packets the XDP program saw."],
  bytes_seen: [1, "Bytes the XDP program saw."],
  pkts_passed: [2, "Packets passed to the stack."],
  bytes_passed: [3, "Bytes passed to the stack."],
  pkts_dropped: [4, "Packets dropped (blocked sources, malformed packets, the SYN limit)."],
  bytes_dropped: [5, "Bytes dropped."],
  drop_blocked: [6, "Packets dropped because their source is on the block list."],
  drop_malformed: [7, "Malformed packets dropped (dropMalformed set)."],
  malformed: [8, "Malformed or truncated packets (passed or dropped)."],
  non_ip: [9, "Frames that are neither IPv4 nor IPv6 (ARP, LLDP, ...)."],
  fragment: [10, "Non-first IP fragments (never parsed as L4)."],
  other_l4: [11, "IP packets that are not TCP, UDP, ICMP or ICMPv6."],
  allowed: [12, "Packets whose source matched the allow list."],
  block_expired: [13, "Block-list entries removed on expiry (by a packet or by the sweep)."],
  flows_started: [14, "Flows inserted into the flow table."],
  flows_ended: [15, "Flows ended (each one ring-buffer record unless lost)."],
  flow_insert_failed: [16, "Flows that could not be inserted into the flow table."],
  records_emitted: [17, "Flow records written to the ring buffer."],
  records_lost: [18, "Flow records the kernel could not write (ring buffer full)."],
  end_base: [19, ""],
  drop_reason_base: [27, ""],
  verdict_benign: [43, "In-kernel model verdicts: benign."],
  verdict_attack: [44, "In-kernel model verdicts: attack."],
  blocks_added: [45, "Sources blocked by the in-kernel model."],
  infer_aborted: [46, "In-kernel classifications that could not finish (record sent without a verdict)."],
  tail_absorbed: [47, "Bare TCP packets right after a FIN/RST end, counted instead of made a flow."],
  ctx_new: [48, "Source contexts created (new sources, or sources whose context was evicted)."],
  ctx_insert_failed: [49, "Flows whose source context could not be kept (their context features read 0)."],
  block_failed: [50, "Blocks the policy decided that the full block list refused (the sources are not blocked)."],
  block_evicted: [51, "Block-list entries evicted to make room (when_full evict-soonest)."],
  exempt: [52, "Flows never classified: neighbour discovery, MLD, link-local / multicast / broadcast addresses."],
  block_lone_packet: [53, "Attack verdicts not blocked: the source sent one packet and nothing else (may be spoofed)."],
  block_never: [54, "Attack verdicts on an address of this host (never blocked)."],
  self_sweeps: [55, "Timeout sweeps the XDP program ran itself (no user-space sweep: the agent was down)."],
  syn_limited: [56, "SYNs dropped by the per-destination SYN limit before they made a flow."],
  max: [57, ""],
} as const;

export const Counter = Object.fromEntries(Object.entries(COUNTERS).map(([k, [i]]) => [k, i])) as { readonly [K in keyof typeof COUNTERS]: (typeof COUNTERS)[K][0] };
export const COUNTER_HELP: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(COUNTERS).flatMap(([k, [, h]]) => (h ? [[k, h]] : [])));

export const NUM_COUNTERS = Counter.max;

/** Human names of every counter slot (index = slot). */
export const COUNTER_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, idx] of Object.entries(Counter)) {
    if (name === "end_base" || name === "drop_reason_base" || name === "max") continue;
    names[idx] = name;
  }
  for (let r = 0; r < END_REASON_NAMES.length; r++) names[Counter.end_base + r] = `ended_${END_REASON_NAMES[r]}`;
  for (let r = 0; r < MAX_BLOCK_REASONS; r++) names[Counter.drop_reason_base + r] = `drop_reason_${r}`;
  return names;
})();

export const FL_FWD_IS_B = 0x01;
export const FL_RST = 0x02;
export const FL_SYN0 = 0x04;
export const FL_ACK = 0x08;

/** enum xids_block_action: what the data plane did about a record's source after its verdict. */
export const BlockAction = { none: 0, blocked: 1, not_yet: 2, allowed: 3, never: 4, failed: 5, alert: 6, lone_packet: 7, exempt: 8 } as const;

/** One ended flow, forward orientation (struct xids_flow_record, decoded). */
export interface FlowRecord {
  family: 4 | 6;
  proto: number;
  endReason: number;
  verdict: number;
  srcPort: number;
  dstPort: number;
  /** 4 or 16 bytes */
  src: Uint8Array;
  dst: Uint8Array;
  firstUs: bigint;
  lastUs: bigint;
  score: number;
  modelSlot: number;
  modelVersion: number;
  /** enum xids_block_action */
  blockAction: number;
  /** attack verdicts the block policy held for the source */
  evidence: number;
  /** the negative errno of a failed block-list update */
  blockError: number;
  features: bigint[];
}

// ---- struct layouts (bpf/xids.h), checked against BTF in test/dataplane/abi.test.ts ----

export const FlowRecordStruct = defineStruct("xids_flow_record", [
  ["family", "u8"],
  ["proto", "u8"],
  ["end_reason", "u8"],
  ["verdict", "u8"],
  ["src_port", "u16"],
  ["dst_port", "u16"],
  ["src", { bytes: 16 }],
  ["dst", { bytes: 16 }],
  ["first_us", "u64"],
  ["last_us", "u64"],
  ["score", "s32"],
  ["model_slot", "u8"],
  ["block_action", "u8"],
  ["evidence", "u16"],
  ["model_version", "u32"],
  ["block_error", "s32"],
  ["features", { array: "u64", length: NUM_FEATURES }],
] as const);

export const BlockKey = defineStruct("xids_block_key", [
  ["family", "u8"],
  ["pad", { bytes: 3 }],
  ["addr", { bytes: 16 }],
] as const);

export const BlockVal = defineStruct("xids_block_val", [
  ["expires_ns", "u64"],
  ["reason", "u32"],
  ["pad", "u32"],
  ["hits", "u64"],
  ["added_ns", "u64"],
  ["first_drop_ns", "u64"],
] as const);

export const Lpm4Key = defineStruct("xids_lpm4_key", [
  ["prefixlen", "u32"],
  ["addr", { bytes: 4 }],
] as const);

export const Lpm6Key = defineStruct("xids_lpm6_key", [
  ["prefixlen", "u32"],
  ["addr", { bytes: 16 }],
] as const);

export const SweepCmd = defineStruct("xids_sweep_cmd", [
  ["magic", "u32"],
  ["mode", "u32"],
  ["max_records", "u32"],
  ["blocks", "u32"],
  ["visited", "u32"],
  ["ended", "u32"],
  ["blocks_expired", "u32"],
  ["pad", "u32"],
] as const);

/** Every codec user space reads or writes, by C struct name (for the BTF check; the kernel's own
 *  map values are mirrored in test/dataplane/kernel-structs.ts). */
export const STRUCTS = [FlowRecordStruct, BlockKey, BlockVal, Lpm4Key, Lpm6Key, SweepCmd];

/** Decodes one ring-buffer record. */
export function decodeRecord(bytes: Uint8Array): FlowRecord {
  const r = FlowRecordStruct.decode(bytes);
  const family = r.family === 6 ? 6 : 4;
  const alen = family === 4 ? 4 : 16;
  return {
    family,
    proto: r.proto,
    endReason: r.end_reason,
    verdict: r.verdict,
    srcPort: r.src_port,
    dstPort: r.dst_port,
    src: r.src.slice(0, alen),
    dst: r.dst.slice(0, alen),
    firstUs: r.first_us,
    lastUs: r.last_us,
    score: r.score,
    modelSlot: r.model_slot,
    modelVersion: r.model_version,
    blockAction: r.block_action,
    evidence: r.evidence,
    blockError: r.block_error,
    features: r.features,
  };
}
