// The fleet at scale, simulated: N real agents (the in-memory data plane, the dt model, XDP-drop
// and the fleet plugin) in this process against one real nats-server on loopback.
//   - block propagation: an attack record goes through one agent's pipeline; from the moment that
//     agent writes the block (the record's at_ms) until every other agent has applied it to its
//     data plane (each agent's apply time, the same clock): p50/p99 over the blocks of the
//     slowest agent, and over every (block, agent) pair;
//   - model rollout: from the active-model key's write until every agent runs the new model
//     (downloaded, digest checked, hot-swapped through PushModel's checked path).
import { packArtifact } from "../plugins/fleet/bundle.ts";
import { openStores } from "../plugins/fleet/buckets.ts";
import { ACTIVE_MODEL_KEY, fleetNames } from "../plugins/fleet/names.ts";
import { TempDir } from "../test/core/util.ts";
import { attackRecord, memoryAgent, portTree } from "../test/harness/fleet.ts";
import { NatsServer } from "../test/harness/nats-server.ts";
import { connect } from "@nats-io/transport-node";

export const BLOCK_P99_GOAL_MS = 1_000;
export const ROLLOUT_GOAL_MS = 10_000;

export interface FleetResults {
  agents: number;
  blocks: number;
  /** Until every other agent applied it, per block. */
  blockAllP50Ms: number;
  blockAllP99Ms: number;
  /** Per (block, other agent). */
  blockEachP50Ms: number;
  blockEachP99Ms: number;
  /** Blocks some agent never applied within the deadline. */
  blocksMissing: number;
  rolloutMs: number;
  rolloutTaken: number;
  rolloutRefused: number;
  startMs: number;
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

async function until(what: string, ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await Bun.sleep(5);
  }
  return true;
}

export async function benchFleet(opts: { agents?: number; blocks?: number; log: (m: string) => void }): Promise<FleetResults> {
  const n = opts.agents ?? 50, blocks = opts.blocks ?? 100;
  await using nats = await NatsServer.start();
  using dir = new TempDir();
  const t0 = Date.now();
  opts.log(`fleet: starting ${n} agents against ${nats.url}`);
  const agents: Awaited<ReturnType<typeof memoryAgent>>[] = [];
  for (let i = 0; i < n; i++) agents.push(await memoryAgent(dir, nats, `sim-${i}`, { heartbeat_ms: 2_000 }));
  try {
    if (!(await until("agents in sync", () => agents.every((a) => a.fleet.link.connected), 60_000))) throw new Error("not every agent got in sync within 60 s");
    const startMs = Date.now() - t0;
    opts.log(`fleet: ${n} agents in sync after ${startMs} ms`);

    // Block propagation: one block at a time, each decided by the next agent in turn.
    const appliedAt = new Map<string, Map<number, number>>(); // source -> agent index -> ms from the write to its apply
    agents.forEach((a, i) => (a.fleet.blocks.onApplied = (r, at) => appliedAt.get(r.source)?.set(i, at - r.at_ms)));
    const all: number[] = [], each: number[] = [];
    let missing = 0;
    for (let b = 0; b < blocks; b++) {
      const source = `198.19.${(b >> 8) & 255}.${(b & 255) + 1}`;
      const decider = agents[b % n]!;
      appliedAt.set(source, new Map());
      decider.agent.ingest(attackRecord(source, b + 1));
      const got = appliedAt.get(source)!;
      const ok = await until(`block ${source} everywhere`, () => got.size === n - 1, 10_000);
      if (!ok) missing++;
      const lat = [...got.values()];
      each.push(...lat);
      if (ok) all.push(Math.max(...lat));
    }
    opts.log(`fleet: ${blocks} blocks propagated (p99 until all ${quantile(all, 0.99)} ms)`);

    // Model rollout: the artifact in the store, then the key; until every agent runs it.
    const artifact = portTree(dir.path, "bench-tree", 1999);
    const bundle = packArtifact(artifact);
    const nc = await connect({ servers: nats.url });
    let rolloutMs = NaN;
    try {
      const stores = await openStores(nc, fleetNames("xids"));
      const object = `bench-tree-${bundle.sha256.slice(0, 12)}`;
      await stores.models.putBlob({ name: object }, bundle.bytes);
      const start = Date.now();
      await stores.rollout.put(ACTIVE_MODEL_KEY, JSON.stringify({ object, sha256: bundle.sha256, canary_pct: 100, at_ms: start }));
      const done = () => agents.every((a) => a.fleet.rollout.sha256 === bundle.sha256 || a.fleet.rollout.rejected.sha256 === bundle.sha256);
      if (await until("rollout", done, 60_000)) rolloutMs = Date.now() - start;
    } finally {
      await nc.close();
    }
    const taken = agents.filter((a) => a.fleet.rollout.sha256 === bundle.sha256).length;
    opts.log(`fleet: model rolled out to ${taken}/${n} agents in ${rolloutMs} ms`);
    return {
      agents: n, blocks, blocksMissing: missing, startMs,
      blockAllP50Ms: quantile(all, 0.5), blockAllP99Ms: quantile(all, 0.99),
      blockEachP50Ms: quantile(each, 0.5), blockEachP99Ms: quantile(each, 0.99),
      rolloutMs, rolloutTaken: taken, rolloutRefused: agents.filter((a) => a.fleet.rollout.rejected.sha256 === bundle.sha256).length,
    };
  } finally {
    for (const a of agents) await a.agent.stop();
  }
}

export function fleetTable(r: FleetResults): string {
  const status = (v: number, goal: number) => (Number.isFinite(v) && v <= goal ? "ok" : "MISSED");
  const rows = [
    ["metric", "xids", "goal", "status"],
    [`block propagation to all ${r.agents - 1} other agents, p50`, `${r.blockAllP50Ms} ms`, "", ""],
    [`block propagation to all ${r.agents - 1} other agents, p99`, `${r.blockAllP99Ms} ms`, `<= ${BLOCK_P99_GOAL_MS} ms`, status(r.blockAllP99Ms, BLOCK_P99_GOAL_MS)],
    ["block propagation per agent, p50 / p99", `${r.blockEachP50Ms} / ${r.blockEachP99Ms} ms`, "", ""],
    ["blocks not applied everywhere within 10 s", `${r.blocksMissing} of ${r.blocks}`, "0", r.blocksMissing ? "MISSED" : "ok"],
    [`model rollout to all ${r.agents} agents`, `${r.rolloutMs} ms (${r.rolloutTaken} took it, ${r.rolloutRefused} refused)`, `<= ${ROLLOUT_GOAL_MS} ms`, r.rolloutTaken === r.agents ? status(r.rolloutMs, ROLLOUT_GOAL_MS) : "MISSED"],
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => `| ${row.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`).join("\n");
}
