// The model chain: a batch goes to the first model of pipeline.models that is serving; the
// records it abstains on (verdict NONE) go to the next, and so on. A model that fails, or answers with the wrong count or
// order, counts against that plugin and passes the whole batch on: no answer is ever guessed.
import { Verdict, type Classification, type FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { PluginHost } from "../host/host.ts";
import { answerViolation } from "./contract.ts";

export interface Verdicts {
  classified: number;
  unclassified: number;
  errors: number;
}

export type OnVerdict = (record: FlowRecord, classification: Classification, detector: string) => Promise<void>;

/** Verdicts are handed to `onVerdict` model by model, so a block never waits for a later model. */
/** `warn(pluginId, message)` reports a refused answer (throttled by the caller). */
export async function classifyBatch(host: PluginHost, models: readonly string[], batch: FlowRecord[], warn: (id: string, msg: string) => void, onVerdict: OnVerdict): Promise<Verdicts> {
  const out: Verdicts = { classified: 0, unclassified: 0, errors: 0 };
  let pending = batch;
  for (const modelId of models) {
    if (pending.length === 0) break;
    if (!host.serving(modelId)) continue; // down, or not serving (health): the next model gets them
    let results: Classification[];
    try {
      // Checked inside the call, so a malformed answer counts against the plugin like a throw.
      const asked = pending;
      results = await host.call(modelId, "model", "classify", async (api) => {
        const res = await api.classify(asked);
        const why = answerViolation(asked, res);
        if (why) throw new Error(`answer refused: ${why}`);
        return res;
      });
    } catch (err) {
      out.errors++;
      warn(modelId, `model ${modelId}: ${(err as Error).message}; the batch of ${pending.length} goes on to the next model`);
      continue; // the next model in the chain gets the same records
    }
    const next: FlowRecord[] = [];
    for (let i = 0; i < pending.length; i++) {
      const record = pending[i]!, c = results[i]!;
      if (c.verdict === Verdict.VERDICT_NONE) next.push(record);
      else {
        out.classified++;
        await onVerdict(record, c, modelId);
      }
    }
    pending = next;
  }
  out.unclassified = pending.length;
  return out;
}
