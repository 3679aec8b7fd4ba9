// A user-space model backend over any artifact the models code produces (decision tree, int32
// MLP reference, XGBoost through ONNX Runtime or the compiled evaluator: config `backend`).
// PushModel swaps the artifact atomically: a batch in flight finishes on the model it started with.
import type { FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { s } from "../../../core/config/schema.ts";
import { definePlugin } from "../../../core/plugin-api/types.ts";
import { coreServices, type ModelArtifact } from "../../../core/plugin-api/services.ts";
import { N_FEATURES, predictUserSpace, XGB_BACKENDS, type Model } from "../../../models/index.ts";
import { checkFeatures, classification, featuresNeeded } from "./records.ts";
import { pluginInfo, serving } from "../../../core/plugin-api/info.ts";
import { XgbServing } from "./xgb-serving.ts";

const config = s.object({
  /** Artifact folder (manifest.json + parameters), e.g. models/artifacts/dt. */
  artifact: s.string({ min: 1, expected: "an artifact folder path" }),
  /** xgb artifacts only: "compiled" (the trees in TypeScript, ORT's answers, faster) or "onnx"
   *  (ONNX Runtime on model.onnx). Other kinds have one backend and ignore it. */
  backend: s.default(s.enum(XGB_BACKENDS), "compiled"),
});

/** The records as n x N_FEATURES rows, each checked to carry what the model reads (records.ts). */
export function featureMatrix(records: FlowRecord[], reads: readonly number[] = []): Float64Array {
  const need = featuresNeeded(reads);
  const x = new Float64Array(records.length * N_FEATURES);
  records.forEach((r, i) => {
    checkFeatures(r, need);
    for (let f = 0; f < r.features.length; f++) x[i * N_FEATURES + f] = r.features[f]!;
  });
  return x;
}

export const artifactModel = () =>
  definePlugin({
    name: "artifact",
    kind: "model",
    description: "user-space inference of a model artifact (dt, mlp-int32, xgb)",
    config,
    deps: { artifacts: coreServices.artifacts },
    async init(ctx) {
      const open = async (art: ModelArtifact) => {
        const model = art.loaded as Model;
        return { art, xgb: model.kind === "xgb" ? await XgbServing.open(model, ctx.config.backend) : null };
      };
      let current = await open(await ctx.deps.artifacts.load(ctx.config.artifact));
      let version = 1;
      ctx.signal.addEventListener("abort", () => void current.xgb?.close(), { once: true });
      return {
        describe: async () =>
          pluginInfo(ctx.id, "model", "1", "user-space artifact inference", {
            model: current.art.name, model_version: String(version), artifact: current.art.dir,
            ...(current.xgb ? { backend: ctx.config.backend } : {}),
          }),
        health: async () => serving(),
        async classify(records) {
          if (records.length === 0) return [];
          const { art, xgb } = current;
          if (xgb) return xgb.classify(records, `${art.name} v${version}`);
          const model = art.loaded as Model;
          const out = await predictUserSpace(model, featureMatrix(records, model.features), records.length);
          return records.map((r, i) => classification(r.id, out.pred[i] === 1, out.score[i]!, `${art.name} v${version}`));
        },
        async update(artifact) {
          const next = await open(artifact);
          const old = current;
          current = next;
          version++;
          void old.xgb?.close(); // after the batches already queued on it
          return { model: artifact.name, version };
        },
      };
    },
  });
