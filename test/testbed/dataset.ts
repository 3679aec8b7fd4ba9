// A recorded testbed run as a labelled flow data set: one CSV row per flow the kernel extracted,
// the 22 receive-side features under their CICFlowMeter names and the source context (so `xids
// train` and `xids eval` read it like the CIC-IDS-2017 files), the scenario and its label.
import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname } from "node:path";
import { FEATURES } from "../../models/data/features.ts";
import { rng, shuffle } from "../../models/data/split.ts";
import { RECORDED_PREFIX } from "../../models/evaluation/recordings.ts";
import type { LabelledFlow } from "./run.ts";

const ID_COLUMNS = ["Run", "Scenario", "Tool", "Seq", "Link", "Family", "Src IP", "Src Port", "Dst IP", "End Reason", "First Seen us", "Last Seen us", "Ended us"];

/** `run` names the recording (e.g. "seed3"), so flows of several runs stay apart in one data set. */
export function flowsToCsv(flows: LabelledFlow[], run = ""): string {
  const header = [...ID_COLUMNS, ...FEATURES.map((f) => f.name), "Label"];
  const rows = flows
    .slice()
    .sort((a, b) => a.record.firstUs - b.record.firstUs)
    .map((f) => {
      const r = f.record;
      return [run, f.scenario, f.tool, f.seq, f.link, r.family, r.srcAddr, r.srcPort, r.dstAddr, r.endReason, r.firstUs, r.lastUs, f.endedUs, ...r.features, f.label].join(",");
    });
  return [header.join(","), ...rows].join("\n") + "\n";
}

const ICMPV6 = 58;
/** bpf/FEATURES.md index 4: the flow's largest forward L4 payload (after the 8-byte ICMP header). */
const FWD_PACKET_LENGTH_MAX = 4;
/**
 * The longest neighbour-discovery message a host sends, after the 8-byte ICMPv6 header: a
 * neighbour solicitation's target (16) with its source link-layer and nonce options (8 each).
 * Advertisements and router solicitations are shorter; MLD comes from link-local addresses.
 */
export const ND_MAX_PAYLOAD = 32;

/**
 * Whether an ICMPv6 flow is its host's own neighbour discovery rather than its scenario's
 * traffic. A flow's key has no ICMP type (ports are 0), so the record cannot say which messages
 * it held; its size can: a flow with any forward message longer than ND_MAX_PAYLOAD carried
 * something else (the ping scenario's echo requests, PING_MIN_PAYLOAD and more), one to a
 * multicast address (solicited-node) is discovery whatever its size.
 */
export function isNeighbourDiscovery(f: LabelledFlow): boolean {
  const r = f.record;
  if (r.protocol !== ICMPV6) return false;
  return r.dstAddr.toLowerCase().startsWith("ff") || (r.features[FWD_PACKET_LENGTH_MAX] ?? 0) <= ND_MAX_PAYLOAD;
}

/**
 * The flows `drop` does not match, each source's Seq renumbered so it still runs 0, 1, 2, ...
 * (flows arrive in Seq order): a gap would cut the prefix a block policy is replayed over.
 */
export function leaveOut(flows: LabelledFlow[], drop: (f: LabelledFlow) => boolean): LabelledFlow[] {
  const next = new Map<string, number>();
  return flows.filter((f) => !drop(f)).map((f) => {
    const seq = next.get(f.scenario) ?? 0;
    next.set(f.scenario, seq + 1);
    return { ...f, seq };
  });
}

/**
 * At most `max` flows of each scenario: its first `prefix` flows in arrival order (so a block
 * policy can be replayed exactly over them: their Seq runs 0, 1, 2, ... without a gap), then a
 * seeded random sample of the rest, in arrival order. A flood makes thousands of near-identical
 * flows a second; the data set keeps a sample of them, as the CIC-IDS-2017 samples do (at most
 * 5,000 a class).
 */
export function capPerScenario(flows: LabelledFlow[], max: number, seed: number, prefix = Math.min(max, RECORDED_PREFIX)): LabelledFlow[] {
  const by = new Map<string, number[]>();
  flows.forEach((f, i) => {
    const list = by.get(f.scenario);
    if (list) list.push(i);
    else by.set(f.scenario, [i]);
  });
  const keep = new Set<number>();
  const rand = rng(seed);
  for (const idx of by.values()) {
    if (idx.length <= max) {
      for (const i of idx) keep.add(i);
      continue;
    }
    const ordered = idx.slice().sort((a, b) => flows[a]!.seq - flows[b]!.seq);
    const head = ordered.slice(0, prefix);
    for (const i of [...head, ...shuffle(ordered.slice(prefix), rand).slice(0, max - head.length)]) keep.add(i);
  }
  return flows.filter((_, i) => keep.has(i));
}

/** Writes the CSV; a path ending in .gz is gzipped (committed recordings are). */
export function writeFlowsCsv(path: string, flows: LabelledFlow[], run = ""): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = flowsToCsv(flows, run);
  writeFileSync(path, path.endsWith(".gz") ? gzipSync(text, { level: 9 }) : text);
}
