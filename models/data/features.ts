// The kernel's features (bpf/FEATURES.md), in kernel index order, with the CSV spellings we accept
// for each: the flow's own 22 receive-side features, its source's context (22..31), its first
// payload's scan (32..34), then what its forward ACKs acknowledged (35..36). Models
// select a subset by index; the index is the contract. Data sets recorded by other tools (the
// CIC-IDS-2017 CSVs) have only the flow's own: a model trained on them reads only those.

export interface FeatureDef {
  index: number;
  /** CIC-IDS-2017 "improved" spelling, used in manifests. */
  name: string;
  /** Other spellings seen in CSVs (classic MachineLearningCVE files, CICFlowMeter variants). */
  aliases: string[];
  /** CIC semantics, copied into the manifest so an artifact explains its own inputs. */
  semantics: string;
  /**
   * Declared range ceiling (the kernel clamps to it). Protocol limits where they exist,
   * otherwise 2^31 (INT32_SPEC.md requires xmax <= 2^31).
   */
  xmax: number;
}

const U31 = 2 ** 31;

export const FEATURES: readonly FeatureDef[] = [
  { index: 0, name: "Dst Port", aliases: ["Destination Port"], semantics: "destination port of the first packet (0 for ICMP)", xmax: 65535 },
  { index: 1, name: "Protocol", aliases: [], semantics: "IP protocol number", xmax: 255 },
  { index: 2, name: "Total Fwd Packet", aliases: ["Total Fwd Packets"], semantics: "number of forward packets", xmax: U31 },
  { index: 3, name: "Total Length of Fwd Packet", aliases: ["Total Length of Fwd Packets"], semantics: "sum of forward L4 payload bytes", xmax: U31 },
  { index: 4, name: "Fwd Packet Length Max", aliases: [], semantics: "max forward L4 payload bytes", xmax: 65535 },
  { index: 5, name: "Fwd Packet Length Min", aliases: [], semantics: "min forward L4 payload bytes", xmax: 65535 },
  { index: 6, name: "Fwd Packet Length Mean", aliases: [], semantics: "mean forward L4 payload bytes (kernel: floor)", xmax: 65535 },
  { index: 7, name: "Fwd Packet Length Std", aliases: [], semantics: "sample std of forward L4 payload bytes (kernel: isqrt)", xmax: 65535 },
  { index: 8, name: "Fwd IAT Total", aliases: [], semantics: "last minus first forward packet time, microseconds", xmax: U31 },
  { index: 9, name: "Fwd IAT Mean", aliases: [], semantics: "mean gap between forward packets, microseconds", xmax: U31 },
  { index: 10, name: "Fwd IAT Std", aliases: [], semantics: "sample std of forward gaps, microseconds", xmax: U31 },
  { index: 11, name: "Fwd IAT Max", aliases: [], semantics: "max gap between forward packets, microseconds", xmax: U31 },
  { index: 12, name: "Fwd IAT Min", aliases: [], semantics: "min gap between forward packets, microseconds", xmax: U31 },
  { index: 13, name: "Fwd PSH Flags", aliases: [], semantics: "forward packets with PSH set", xmax: U31 },
  { index: 14, name: "Fwd URG Flags", aliases: [], semantics: "forward packets with URG set", xmax: U31 },
  { index: 15, name: "Fwd RST Flags", aliases: [], semantics: "forward packets with RST set", xmax: U31 },
  { index: 16, name: "Fwd Header Length", aliases: ["Fwd Header Length.1", "Fwd Header Len"], semantics: "sum of forward TCP header length incl. options (8 per UDP/ICMP packet)", xmax: U31 },
  { index: 17, name: "Fwd Packets/s", aliases: ["Fwd Pkts/s"], semantics: "forward packets per second (kernel: floor(n*1e6/IAT total))", xmax: U31 },
  { index: 18, name: "FWD Init Win Bytes", aliases: ["Init_Win_bytes_forward", "Init Fwd Win Byts", "Fwd Init Win Bytes"], semantics: "TCP window of the first packet, unscaled (0 if not TCP)", xmax: 65535 },
  { index: 19, name: "Fwd Act Data Pkts", aliases: ["act_data_pkt_fwd", "Fwd Act Data Pkts"], semantics: "forward packets with payload >= 1", xmax: U31 },
  { index: 20, name: "Fwd Seg Size Min", aliases: ["min_seg_size_forward", "Fwd Seg Size Min"], semantics: "min forward TCP header length (8 for UDP/ICMP)", xmax: 65535 },
  { index: 21, name: "Fwd Segment Size Avg", aliases: ["Avg Fwd Segment Size", "Fwd Seg Size Avg"], semantics: "mean forward L4 payload bytes (same as idx 6; kernel: floor)", xmax: 65535 },
  { index: 22, name: "Src Flows 1s", aliases: [], semantics: "flows the source started over the last 1 s (sliding)", xmax: U31 },
  { index: 23, name: "Src Flows 10s", aliases: [], semantics: "flows the source started over the last 10 s (sliding)", xmax: U31 },
  { index: 24, name: "Src Dst Ports 10s", aliases: [], semantics: "distinct destination ports of the source's flows, 10-20 s (128-bit sketch: bits set)", xmax: 128 },
  { index: 25, name: "Src Dst Addrs 10s", aliases: [], semantics: "distinct destination addresses of the source's flows, 10-20 s (64-bit sketch: bits set)", xmax: 64 },
  { index: 26, name: "Src Same Port Flows 10s", aliases: [], semantics: "the source's flows to this flow's destination-port bucket over the last 10 s", xmax: U31 },
  { index: 27, name: "Src Ended Flows 10s", aliases: [], semantics: "the source's flows that ended over the last 10 s, this one included", xmax: U31 },
  { index: 28, name: "Src No-Handshake Flows 10s", aliases: [], semantics: "of those, TCP flows of a SYN and no forward ACK after it", xmax: U31 },
  { index: 29, name: "Src RST Flows 10s", aliases: [], semantics: "of those, flows ended by RST", xmax: U31 },
  { index: 30, name: "Src Short Flows 10s", aliases: [], semantics: "of those, flows of at most 3 forward packets", xmax: U31 },
  { index: 31, name: "Src Payload per Flow 10s", aliases: [], semantics: "forward payload bytes per ended flow of the source over the last 10 s", xmax: U31 },
  { index: 32, name: "Fwd First Line Length", aliases: [], semantics: "first forward TCP payload: bytes before its first CR or LF, within its first 512 bytes", xmax: 512 },
  { index: 33, name: "Fwd First Line Meta", aliases: [], semantics: "first forward TCP payload: metacharacters \" ' ( ) ; < > \\ ` in that line", xmax: 512 },
  { index: 34, name: "Fwd First Payload Encoded Meta", aliases: [], semantics: "first forward TCP payload: %-encoded metacharacters (or %25) in its first 512 bytes", xmax: 512 },
  { index: 35, name: "Fwd Acked Bytes", aliases: [], semantics: "TCP: how far the flow's forward ACKs moved the acknowledgment number (the bytes the peer delivered, as the receive side sees them)", xmax: U31 },
  { index: 36, name: "Src Acked per Flow 10s", aliases: [], semantics: "idx 35 per ended flow of the source over the last 10 s", xmax: U31 },
];

export const N_FEATURES = FEATURES.length;
/** The flow's own features: the ones every data set has. */
export const N_FLOW_FEATURES = 22;
/** The optional feature groups after the flow's own, in order, each by what it is called in
 *  errors and its width: a data set has all of a group or none of it. */
const GROUP_WIDTHS: readonly { name: string; width: number }[] = [
  { name: "source-context", width: 10 }, // xids.features.v2: the source's context at flow end
  { name: "first-payload", width: 3 }, // xids.features.v3: the first forward payload's scan
  { name: "acknowledged", width: 2 }, // xids.features.v4: what the flow's forward ACKs acknowledged
];
export const OPTIONAL_GROUPS: readonly { name: string; indices: readonly number[] }[] = GROUP_WIDTHS.map((g, k) => {
  const start = N_FLOW_FEATURES + GROUP_WIDTHS.slice(0, k).reduce((n, p) => n + p.width, 0);
  return { name: g.name, indices: Array.from({ length: g.width }, (_, i) => start + i) };
});
/** Indices of the source-context features (present only in data recorded by xids). */
export const CONTEXT_FEATURES: readonly number[] = OPTIONAL_GROUPS[0]!.indices;
/** Indices of the first-payload features (recorded by xids since xids.features.v3). */
export const PAYLOAD_FEATURES: readonly number[] = OPTIONAL_GROUPS[1]!.indices;
/** Indices of the acknowledged features (recorded by xids since xids.features.v4). */
export const ACKED_FEATURES: readonly number[] = OPTIONAL_GROUPS[2]!.indices;
/** Row lengths of the feature sets (xids.features.v1..v4: flow; + context; + first payload; + acknowledged). */
export const FEATURE_SET_LENGTHS: readonly number[] = [N_FLOW_FEATURES, ...OPTIONAL_GROUPS.map((g) => g.indices.at(-1)! + 1)];
if (FEATURE_SET_LENGTHS.at(-1) !== N_FEATURES) throw new Error(`features.ts: the groups end at ${FEATURE_SET_LENGTHS.at(-1)}, the table has ${N_FEATURES} features`);

/** Normalise a header for matching: case, surrounding blanks and repeated spaces do not matter. */
export function normHeader(h: string): string {
  return h.trim().replace(/\s+/g, " ").toLowerCase();
}

export function featureByName(name: string): FeatureDef | undefined {
  const n = normHeader(name);
  return FEATURES.find((f) => normHeader(f.name) === n || f.aliases.some((a) => normHeader(a) === n));
}

/** The features a model takes on a log scale by default: every count, size and time (not the
 *  destination port or the protocol number, which name things rather than measure them). */
export const LOG_SCALE_FEATURES: readonly number[] = FEATURES.map((f) => f.index).filter((i) => i !== 0 && i !== 1);
