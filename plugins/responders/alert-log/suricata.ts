// The values Suricata's EVE tooling expects, computed from an xids detection: its timestamp form,
// a flow id, and the alert's action, signature id, category and severity. Suricata names a
// signature by rule; xids has no rules, so the attack class (the model's label) stands in for
// one: one signature id per class, whatever model reported it.
import type { FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";

/** Suricata's timestamp: local-time ISO 8601 with microseconds and a +hhmm offset; here UTC. */
export function suricataTimestamp(unixMs: number): string {
  const iso = new Date(unixMs).toISOString(); // 2026-12-01T12:00:00.123Z
  return `${iso.slice(0, 23)}000+0000`;
}

/** FNV-1a, 64 bits: small, stable across runs and platforms. */
function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/**
 * Suricata's flow_id ties the events of one flow together. A flow here is its interface, 5-tuple
 * and first-seen time (the record id restarts with the core). Kept below 2^53 so that every JSON
 * reader, JavaScript's included, reads the same integer.
 */
export function flowId(r: FlowRecord): number {
  const key = [r.source, r.family, r.protocol, r.srcAddr, r.srcPort, r.dstAddr, r.dstPort, r.firstUs].join("|");
  return Number(fnv1a64(key) & 0x1fffffffffffffn) || 1;
}

/** Signature ids 9200000..9299999: one per attack class, from the class name. */
export const SIGNATURE_ID_BASE = 9_200_000;

export function signatureId(attackClass: string): number {
  return SIGNATURE_ID_BASE + Number(fnv1a64(attackClass) % 100_000n);
}

/**
 * Category and severity by attack class, with the names and priorities of Suricata's
 * classification.config (1 = most severe). Matched on the class name, first match wins; a class
 * none of them names (e.g. a binary model's "ATTACK") is a "Misc Attack".
 */
const CLASSES: readonly { match: RegExp; category: string; severity: 1 | 2 | 3 }[] = [
  { match: /web attack|sql|xss|injection/i, category: "Web Application Attack", severity: 1 },
  { match: /patator|brute|hydra|medusa|ncrack/i, category: "Attempted User Privilege Gain", severity: 1 },
  { match: /bot|infiltration|trojan/i, category: "A Network Trojan was detected", severity: 1 },
  { match: /heartbleed/i, category: "Attempted Information Leak", severity: 2 },
  { match: /dos|flood|slowloris|slowhttp|hulk|goldeneye/i, category: "Attempted Denial of Service", severity: 2 },
  { match: /scan/i, category: "Detection of a Network Scan", severity: 3 },
];

export function classify(attackClass: string): { category: string; severity: 1 | 2 | 3 } {
  const c = CLASSES.find((x) => x.match.test(attackClass));
  return c ? { category: c.category, severity: c.severity } : { category: "Misc Attack", severity: 2 };
}

/** Suricata's alert.action: "blocked" only when the source really was blocked. */
export function alertAction(action: string): "blocked" | "allowed" {
  return action === "blocked" || action === "kernel-blocked" ? "blocked" : "allowed";
}
