// `xids fleet push DIR`: the artifact into the models store, then named active (with its sha256
// and canary share); the agents take it from there. --wait follows the rollout in the status.
import { resolve } from "node:path";
import { UsageError } from "../../../core/cli/args.ts";
import type { Command } from "../../../core/cli/command.ts";
import { packArtifact } from "../bundle.ts";
import { ACTIVE_MODEL_KEY } from "../names.ts";
import { encodeJson, type ActiveModel } from "../records.ts";
import { inCanary } from "../rollout.ts";
import { FLEET_CONNECTION_HELP, parseFleetFlags, withFleet } from "./connect.ts";
import { readAgents } from "./status.ts";

export function parseCanary(text: string | undefined): number {
  if (text === undefined) return 100;
  const m = /^(\d{1,3}(?:\.\d+)?)%?$/.exec(text);
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct > 0 && pct <= 100)) throw new UsageError(`--canary: expected a share of agents in (0, 100] %, e.g. 10%, got '${text}'`);
  return pct;
}

export const command: Command = {
  name: "fleet push",
  summary: "roll a model artifact out to the fleet (object store + active-model key)",
  help: `usage: xids fleet push <artifact-dir> [--canary N%] [--wait <s>] [--no-check] (--servers ... | --config <file>)

Checks the artifact here (as xids model push does), uploads it as one object (a bundle of the
folder) to the models store and names it the fleet's active model with its sha256. Every agent
(or, with --canary, the same N % of agents every time) downloads it, checks the digest and
hot-swaps it through its own checked path; an agent that refuses it keeps its model and reports
the reason in xids fleet status.
  --canary N%   only this share of agents takes it (default 100%)
  --wait <s>    wait up to s seconds until every agent in the share took or refused it;
                exit 1 if one refused it or did not answer
  --no-check    skip the local check (the agents check anyway)

${FLEET_CONNECTION_HELP}

example: xids fleet push models/artifacts/dt --canary 10% --servers nats://10.0.0.5:4222`,
  async run(args, ctx) {
    const f = parseFleetFlags(args, { canary: "string", wait: "number", "no-check": "boolean" });
    if (f._.length !== 1) throw new UsageError("expected one artifact folder");
    const canary = parseCanary(f.canary);
    const dir = resolve(f._[0]!);
    if (!f["no-check"]) {
      try {
        const m = await ctx.artifacts.load(dir);
        console.error(`checked ${dir}: ${m.kind}, ${m.features} features`);
      } catch (err) {
        console.error(`xids fleet push: ${(err as Error).message}`);
        return 1;
      }
    }
    const bundle = packArtifact(dir);
    return withFleet("push", f, ctx, async ({ stores }) => {
      const object = `${bundle.name}-${bundle.sha256.slice(0, 12)}`;
      await stores.models.putBlob({ name: object, description: `model artifact ${bundle.name}` }, bundle.bytes);
      const active: ActiveModel = { object, sha256: bundle.sha256, canary_pct: canary, at_ms: Date.now() };
      await stores.rollout.put(ACTIVE_MODEL_KEY, encodeJson(active));
      console.log(`active model: ${object} (sha256 ${bundle.sha256}, ${bundle.bytes.length} bytes) for ${canary} % of the agents`);
      if (f.wait === undefined) return 0;
      return waitForRollout(stores.agents, active, f.wait * 1000);
    });
  },
};

/** Polls the status until every running agent in the share took or refused `active`; prints each. */
async function waitForRollout(agents: Parameters<typeof readAgents>[0], active: ActiveModel, ms: number): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const { rows } = await readAgents(agents);
    const share = rows.filter((r) => r.health === "running" && inCanary(r.agent, active.canary_pct));
    const took = share.filter((r) => r.model_sha256 === active.sha256);
    const refused = share.filter((r) => r.model_rejected.sha256 === active.sha256);
    if (took.length + refused.length === share.length || Date.now() > until) {
      for (const r of took) console.log(`${r.agent}: runs it (${r.model.target} ${r.model.model} v${r.model.version})`);
      for (const r of refused) console.log(`${r.agent}: REFUSED: ${r.model_rejected.reason}`);
      const silent = share.filter((r) => !took.includes(r) && !refused.includes(r));
      for (const r of silent) console.log(`${r.agent}: no answer within ${ms / 1000} s`);
      return refused.length || silent.length ? 1 : 0;
    }
    await Bun.sleep(200);
  }
}
