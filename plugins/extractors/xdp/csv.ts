// Flow records as CSV: one row per flow, the CIC-IDS-2017 ("improved") column names for the
// features, so rows line up with the training data. Dst Port and Protocol are features 0 and 1
// and appear once, in the 5-tuple columns at the front.
import { END_REASON_NAMES, VERDICT_NAMES, type FlowRecord } from "../../../core/ebpf/abi.ts";
import { formatIp } from "../../../core/ebpf/addr.ts";
import { FEATURE_NAMES } from "./features.ts";

export const CSV_COLUMNS = [
  "Src IP",
  "Src Port",
  "Dst IP",
  "Dst Port",
  "Protocol",
  ...FEATURE_NAMES.slice(2),
  "Flow First Seen (us)",
  "Flow Last Seen (us)",
  "End Reason",
  "Verdict",
  "Score",
] as const;

export function csvHeader(): string {
  return CSV_COLUMNS.map((c) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(",");
}

export function csvRow(r: FlowRecord): string {
  return [
    formatIp(r.family, r.src),
    r.srcPort,
    formatIp(r.family, r.dst),
    r.dstPort,
    r.proto,
    ...r.features.slice(2).map(String),
    r.firstUs.toString(),
    r.lastUs.toString(),
    END_REASON_NAMES[r.endReason] ?? String(r.endReason),
    VERDICT_NAMES[r.verdict] ?? String(r.verdict),
    r.verdict === 0 ? "" : String(r.score),
  ].join(",");
}

export function toCsv(records: Iterable<FlowRecord>): string {
  const lines = [csvHeader()];
  for (const r of records) lines.push(csvRow(r));
  return lines.join("\n") + "\n";
}
