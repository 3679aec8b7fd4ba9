// An xgb artifact served by one of its two backends (config `backend`): features read from the
// records straight into the backend's Float32 input buffer, answers read from its typed arrays.
// The buffers are reused, so batches on one backend run one at a time (a queue); a swapped-out
// backend is closed once the batches queued on it have finished.
import type { Classification, FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { openXgbScorer, type XgbBackendName, type XgbModel, type XgbScorer } from "../../../models/index.ts";
import { checkFeatures, classification, featuresNeeded } from "./records.ts";

export class XgbServing {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly need: number;

  private constructor(readonly model: XgbModel, private scorer: XgbScorer) {
    this.need = featuresNeeded(model.features);
  }

  static async open(model: XgbModel, backend: XgbBackendName): Promise<XgbServing> {
    return new XgbServing(model, await openXgbScorer(model, backend));
  }

  classify(records: FlowRecord[], modelName: string): Promise<Classification[]> {
    const p = this.queue.then(() => this.score(records, modelName));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Closes the backend after the batches already queued. */
  close(): Promise<void> {
    const p = this.queue.then(() => this.scorer.close());
    this.queue = p;
    return p;
  }

  private async score(records: FlowRecord[], modelName: string): Promise<Classification[]> {
    const n = records.length;
    const feats = this.model.features;
    const k = feats.length;
    const x = this.scorer.input(n);
    for (let i = 0; i < n; i++) {
      checkFeatures(records[i]!, this.need);
      const f = records[i]!.features;
      // Floored as the kernel derives them (predictUserSpace does the same).
      for (let c = 0; c < k; c++) x[i * k + c] = Math.floor(f[feats[c]!]!);
    }
    const { prob, label } = await this.scorer.run(n);
    const out = new Array<Classification>(n);
    for (let i = 0; i < n; i++) out[i] = classification(records[i]!.id, label[i] === 1, prob[i]!, modelName);
    return out;
  }
}
