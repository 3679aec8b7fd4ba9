// The JSON values the fleet's buckets hold, and their checks: a value another agent (or a person
// with the nats CLI) wrote is read as data, so a malformed one is refused with the reason, never
// guessed into a block.
import { ipError, parseCidr } from "../../core/util/net.ts";

/** blocks bucket, key = the source address. */
export interface BlockRecord {
  source: string;
  /** Why, in words (the detection's model and label, or the operator's note). */
  reason: string;
  /** The block list's reason code (0..15; drops are counted per code). */
  code: number;
  /** When the block ends, Unix ms; 0 = permanent. */
  expires_at_ms: number;
  /** The agent (or "cli") that decided it. */
  agent: string;
  at_ms: number;
}

/** allows bucket, key = the CIDR. */
export interface AllowRecord {
  cidr: string;
  agent: string;
  at_ms: number;
}

/** rollout bucket, key ACTIVE_MODEL_KEY: the model every (canary) agent should run. */
export interface ActiveModel {
  /** The object in the models store (a bundle of the artifact folder). */
  object: string;
  /** SHA-256 of the bundle, hex. */
  sha256: string;
  /** Share of agents (0..100) that take it; the rest keep what they run. */
  canary_pct: number;
  at_ms: number;
}

/** agents bucket, key = the agent name. */
export interface AgentStatus {
  agent: string;
  /** "stopped": the agent said so as it stopped (otherwise a missing heartbeat makes it stale). */
  state: "running" | "stopped";
  version: string;
  at_ms: number;
  heartbeat_ms: number;
  /** The model in use (the first of pipeline.models): plugin, model, version. */
  model: { target: string; model: string; version: number };
  /** The fleet model this agent runs (its bundle's sha256), "" = none yet. */
  model_sha256: string;
  /** The last fleet model this agent refused, and why ("" = none). */
  model_rejected: { sha256: string; reason: string };
  blocks: number;
  xdp_mode: string;
  interface: string;
  /** Writes waiting for NATS, and those dropped because the queue was full. */
  queued: number;
  dropped: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isTime = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;

function parseJson(bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(v)) throw new Error("not a JSON object");
  return v;
}

export function parseBlock(bytes: Uint8Array): BlockRecord {
  const v = parseJson(bytes);
  if (typeof v.source !== "string" || ipError(v.source)) throw new Error(`source: expected an IPv4/IPv6 address, got ${JSON.stringify(v.source)}`);
  if (!isTime(v.expires_at_ms)) throw new Error("expires_at_ms: expected Unix ms (0 = permanent)");
  const code = v.code ?? 1;
  if (typeof code !== "number" || !Number.isInteger(code) || code < 0 || code > 15) throw new Error("code: expected an integer in [0, 15]");
  return { source: v.source, reason: String(v.reason ?? ""), code, expires_at_ms: v.expires_at_ms as number, agent: String(v.agent ?? ""), at_ms: isTime(v.at_ms) ? (v.at_ms as number) : 0 };
}

export function parseAllow(bytes: Uint8Array): AllowRecord {
  const v = parseJson(bytes);
  const c = typeof v.cidr === "string" ? parseCidr(v.cidr) : { error: "missing" };
  if ("error" in c) throw new Error(`cidr: expected an IPv4/IPv6 CIDR, got ${JSON.stringify(v.cidr)} (${c.error})`);
  return { cidr: c.cidr, agent: String(v.agent ?? ""), at_ms: isTime(v.at_ms) ? (v.at_ms as number) : 0 };
}

export function parseActiveModel(bytes: Uint8Array): ActiveModel {
  const v = parseJson(bytes);
  if (typeof v.object !== "string" || !v.object) throw new Error("object: expected the model's object name");
  if (typeof v.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(v.sha256)) throw new Error("sha256: expected 64 hex digits");
  const pct = v.canary_pct ?? 100;
  if (typeof pct !== "number" || pct < 0 || pct > 100) throw new Error("canary_pct: expected a number in [0, 100]");
  return { object: v.object, sha256: v.sha256, canary_pct: pct, at_ms: isTime(v.at_ms) ? (v.at_ms as number) : 0 };
}

export function parseAgentStatus(bytes: Uint8Array): AgentStatus {
  const v = parseJson(bytes);
  if (typeof v.agent !== "string" || !isTime(v.at_ms) || !isTime(v.heartbeat_ms)) throw new Error("expected agent, at_ms and heartbeat_ms");
  return v as unknown as AgentStatus;
}

export const encodeJson = (v: object): string => JSON.stringify(v);
