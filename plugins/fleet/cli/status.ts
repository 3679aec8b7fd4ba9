// `xids fleet status`: every agent's line from the agents bucket, stale ones flagged.
import type { KV } from "@nats-io/kv";
import type { Command } from "../../../core/cli/command.ts";
import { ACTIVE_MODEL_KEY } from "../names.ts";
import { parseActiveModel, parseAgentStatus, type ActiveModel, type AgentStatus } from "../records.ts";
import { FLEET_CONNECTION_HELP, parseFleetFlags, withFleet } from "./connect.ts";

/** An agent is stale when it has missed this many heartbeats. */
export const STALE_AFTER_BEATS = 3;

export interface AgentRow extends AgentStatus {
  /** "running", "stopped" (it said so) or "stale" (no heartbeat for STALE_AFTER_BEATS intervals). */
  health: "running" | "stopped" | "stale";
  age_ms: number;
}

export async function readAgents(kv: KV, now = Date.now()): Promise<{ rows: AgentRow[]; invalid: string[] }> {
  const rows: AgentRow[] = [], invalid: string[] = [];
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (!e || e.operation !== "PUT") continue;
    try {
      const s = parseAgentStatus(e.value);
      const age = now - s.at_ms;
      rows.push({ ...s, age_ms: age, health: s.state === "stopped" ? "stopped" : age > STALE_AFTER_BEATS * s.heartbeat_ms ? "stale" : "running" });
    } catch (err) {
      invalid.push(`${key}: ${(err as Error).message}`);
    }
  }
  return { rows: rows.sort((a, b) => a.agent.localeCompare(b.agent)), invalid };
}

export async function readActiveModel(kv: KV): Promise<ActiveModel | null> {
  const e = await kv.get(ACTIVE_MODEL_KEY);
  return e && e.operation === "PUT" ? parseActiveModel(e.value) : null;
}

const ago = (ms: number) => (ms < 1_000 ? "now" : ms < 120_000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60_000)} min ago`);

function modelCell(r: AgentRow, active: ActiveModel | null): string {
  const inUse = r.model.version ? `${r.model.target} ${r.model.model} v${r.model.version}` : r.model.target || "none";
  const fleet = !active ? "" : r.model_sha256 === active.sha256 ? " [active]" : r.model_rejected.sha256 === active.sha256 ? " [REFUSED]" : " [not active]";
  return inUse + fleet;
}

export const command: Command = {
  name: "fleet status",
  summary: "every agent of the fleet: heartbeat, version, model, blocks, data-plane mode (stale flagged)",
  help: `usage: xids fleet status (--servers <url,...> | --config <file>) [--json]

Reads the agents bucket: one line per agent with its last heartbeat, version, the model it runs
(and whether it is the fleet's active model, or refused it, with the reason), its block count,
data-plane mode and the writes it has waiting. An agent that missed ${STALE_AFTER_BEATS} heartbeats is STALE.
  --json    one JSON object: { active_model, agents: [...] }

${FLEET_CONNECTION_HELP}

example: xids fleet status --servers nats://10.0.0.5:4222`,
  async run(args, ctx) {
    const f = parseFleetFlags(args, {});
    return withFleet("status", f, ctx, async ({ stores }) => {
      const [{ rows, invalid }, active] = await Promise.all([readAgents(stores.agents), readActiveModel(stores.rollout)]);
      if (f.json) return (console.log(JSON.stringify({ active_model: active, agents: rows, invalid })), 0);
      console.log(active ? `active model: ${active.object} (sha256 ${active.sha256.slice(0, 12)}, ${active.canary_pct} % of agents)` : "active model: none pushed to the fleet");
      const head = ["AGENT", "HEALTH", "SEEN", "VERSION", "MODEL", "BLOCKS", "XDP", "QUEUED", "NOTE"];
      const table = rows.map((r) => [
        r.agent, r.health === "stale" ? "STALE" : r.health, ago(r.age_ms), r.version, modelCell(r, active), String(r.blocks),
        r.interface ? `${r.interface} ${r.xdp_mode}` : r.xdp_mode, r.dropped ? `${r.queued} (${r.dropped} dropped)` : String(r.queued),
        r.model_rejected.sha256 ? `refused ${r.model_rejected.sha256.slice(0, 12)}: ${r.model_rejected.reason}` : "",
      ]);
      const w = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
      for (const row of [head, ...table]) console.log(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(w[i]!))).join("  ").trimEnd());
      for (const bad of invalid) console.log(`(ignored: ${bad})`);
      if (!rows.length) console.log("(no agent has reported yet)");
      return 0;
    });
  },
};
