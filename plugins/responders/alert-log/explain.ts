// "Why was this flagged?" in the alert line: the flow's top features by their Shapley contribution to
// the score of the model that classified it (models/explain, the same code as `xids explain`),
// against the artifact's benign baseline. Opt-in and rate-capped: each explanation costs a few
// hundred int32 inferences. A detection that gets none says why in the line, and is counted.
import { ExplainableArtifacts } from "../../../models/explain/explainable.ts";
import { explainFlow, type FlowExplanation } from "../../../models/explain/explain-flow.ts";
import { METHOD } from "../../../models/explain/shapley.ts";
import type { Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import type { ModelInUse } from "../../../core/plugin-api/services.ts";

export interface ExplainSettings {
  /** Features in the line, largest |contribution| first. */
  top: number;
  /** Permutations per flow, rounded up to even (antithetic pairs). */
  permutations: number;
  /** Explanations per second at most; the rest of the second's lines say so. */
  max_per_second: number;
}

/** What the line carries under `explanation`: the top features, or why there are none. */
export type AlertExplanation =
  | {
      method: string;
      permutations: number;
      /** The int32 reference score of the flow and of the baseline row, in 1/2^b logit units. */
      score: number;
      baseline_score: number;
      top: { name: string; value: number; contribution: number }[];
      /** The contributions of the features not in `top`: top + others = score - baseline_score. */
      others: number;
      note?: string;
    }
  | { skipped: string };

/** The version that scored the flow: the kernel's from the record, else "<model> vN" of the classification. */
function scoredBy(d: Detection): number {
  const r = d.record;
  if (r && r.kernelVerdict !== Verdict.VERDICT_NONE) return r.modelVersion;
  return Number(/ v(\d+)$/.exec(d.classification?.model ?? "")?.[1] ?? 0);
}

export class AlertExplainer {
  private window = { start: 0, used: 0 };
  /** By artifact folder and model version: loaded once per push. */
  private readonly artifacts = new ExplainableArtifacts();

  constructor(
    private readonly settings: ExplainSettings,
    private readonly models: ModelInUse,
    private readonly counted: { explained(): void; skipped(): void },
    private readonly now = () => Date.now(),
  ) {}

  explain(d: Detection): AlertExplanation {
    const out = this.attempt(d);
    if ("skipped" in out) this.counted.skipped();
    else this.counted.explained();
    return out;
  }

  private attempt(d: Detection): AlertExplanation {
    const r = d.record;
    if (!r || r.features.length === 0) return { skipped: "the detection carries no flow features" };
    const t = this.now();
    if (t - this.window.start >= 1_000) this.window = { start: t, used: 0 };
    if (this.window.used >= this.settings.max_per_second) return { skipped: `rate cap: ${this.settings.max_per_second} explanations in this second already (explain.max_per_second)` };
    const m = this.models.current(d.detector);
    if (!m.artifact) return { skipped: `model plugin "${d.detector}" names no artifact folder to explain its score with` };
    const version = scoredBy(d);
    if (version && m.version && version !== m.version) return { skipped: `scored by ${d.detector} version ${version}; it now runs version ${m.version} (${m.artifact})` };
    const a = this.artifacts.get(m.artifact, m.version);
    if ("error" in a) return { skipped: a.error };
    this.window.used++;
    let e: FlowExplanation;
    try {
      e = explainFlow(a.model, a.baseline, r.features, this.settings.permutations + (this.settings.permutations % 2));
    } catch (err) {
      return { skipped: (err as Error).message };
    }
    const top = e.features.slice(0, this.settings.top);
    const others = e.features.slice(this.settings.top).reduce((s, f) => s + f.contribution, 0);
    const kernelScore = r.kernelVerdict !== Verdict.VERDICT_NONE ? r.kernelScore : null;
    return {
      method: METHOD,
      permutations: e.permutations,
      score: e.score,
      baseline_score: e.baselineScore,
      top: top.map((f) => ({ name: f.name, value: f.value, contribution: f.contribution })),
      others,
      ...(kernelScore === null
        ? { note: `the verdict came from ${d.classification?.model || d.detector}; explained is its int32 MLP's reference score` }
        : kernelScore !== e.score ? { note: `the reference scores ${e.score}, the kernel scored ${kernelScore}` } : {}),
    };
  }
}
