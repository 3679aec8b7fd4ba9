// What one detection gives the fleet: the event on the detections stream (the alert log's EVE-style
// object with the agent's name, so a SIEM reads one format), and, when this agent's data plane
// really blocked the source (the inline responder's action says so), the block record for the
// fleet's block list. Any other action (allowed, refused, not-yet, alert, failed) blocks nothing.
import type { Detection } from "../../core/plugin-api/types.ts";
import { parseIp } from "../../core/util/net.ts";
import { alertEvent } from "../responders/alert-log/index.ts";
import type { BlockRecord } from "./records.ts";

const BLOCKING_ACTIONS = new Set(["blocked", "kernel-blocked"]);

export function detectionEvent(d: Detection, agent: string): Record<string, unknown> {
  return { agent, ...alertEvent(d) };
}

/** The block this detection made here, or null when it made none. */
export function blockOf(d: Detection, agent: string, code: number): BlockRecord | null {
  if (!BLOCKING_ACTIONS.has(d.action)) return null;
  const source = d.record ? parseIp(d.record.srcAddr) : null;
  if (!source) return null;
  const c = d.classification;
  const at = Number(d.timeUnixMs) || Date.now();
  return {
    source: source.text,
    reason: `${d.action} on ${agent}: ${d.detector}${c?.label ? ` said ${c.label}` : ""}${c ? ` (score ${c.score.toFixed(3)})` : ""}`,
    code,
    expires_at_ms: d.blockTtlSeconds > 0 ? at + d.blockTtlSeconds * 1000 : 0,
    agent,
    at_ms: Date.now(),
  };
}
