// What the core accepts from plugins, checked on every message: a record an extractor streams, a
// model's answer. A violation is refused (never guessed into a verdict or a detection), counted
// against the plugin and logged with the reason, at most once per plugin every few seconds.
import { Verdict, type Classification, type FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { FEATURE_SETS, NUM_CONTEXT_FEATURES, NUM_FEATURES, NUM_FLOW_FEATURES, NUM_PAYLOAD_FEATURES } from "../ebpf/abi.ts";
import { parseIp } from "../util/net.ts";

/** Why an extractor's record cannot enter the pipeline, or null. */
export function recordViolation(r: FlowRecord): string | null {
  if (r.family !== 4 && r.family !== 6) return `family ${r.family} (expected 4 or 6)`;
  for (const [name, text] of [["src_addr", r.srcAddr], ["dst_addr", r.dstAddr]] as const) {
    if (parseIp(text)?.family !== r.family) return `${name} ${JSON.stringify(text)} is not an IPv${r.family} address`;
  }
  if (r.protocol > 255 || r.srcPort > 65535 || r.dstPort > 65535) return `protocol ${r.protocol} / ports ${r.srcPort}, ${r.dstPort} out of range`;
  const set = FEATURE_SETS[r.features.length];
  if (!set) return `${r.features.length} features (bpf/FEATURES.md: ${NUM_FLOW_FEATURES} of the flow, ${NUM_FLOW_FEATURES + NUM_CONTEXT_FEATURES} with its source's context, ${NUM_FLOW_FEATURES + NUM_CONTEXT_FEATURES + NUM_PAYLOAD_FEATURES} with its first payload's too, or ${NUM_FEATURES} with what it acknowledged)`;
  if (r.featureSet && r.featureSet !== set) return `feature_set "${r.featureSet}" with ${r.features.length} features (that count is ${set})`;
  const bad = r.features.findIndex((f) => !Number.isSafeInteger(f) || f < 0);
  return bad === -1 ? null : `feature ${bad} is ${r.features[bad]} (features are whole numbers in [0, 2^53))`;
}

/** Why a model's answer for `asked` is refused, or null. */
export function answerViolation(asked: readonly FlowRecord[], res: readonly Classification[]): string | null {
  if (res.length !== asked.length) return `answered ${res.length} results for ${asked.length} records`;
  for (let i = 0; i < res.length; i++) {
    const c = res[i]!;
    if (c.flowId !== asked[i]!.id) return `result ${i} is for flow ${c.flowId}, expected ${asked[i]!.id} (answers must be in input order)`;
    if (c.verdict !== Verdict.VERDICT_NONE && c.verdict !== Verdict.VERDICT_BENIGN && c.verdict !== Verdict.VERDICT_ATTACK) return `result ${i} has verdict ${c.verdict}, not one of the contract's (NONE, BENIGN, ATTACK)`;
    if (!Number.isFinite(c.score)) return `result ${i} has score ${c.score} (scores are finite numbers)`;
  }
  return null;
}
