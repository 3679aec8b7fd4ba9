// The in-kernel model as a model plugin. The XDP program classifies a flow when it ends and puts
// the verdict into the flow record; this plugin reports that verdict through the same ModelApi as
// every other backend, and abstains (VERDICT_NONE) on records the kernel did not classify, so the
// next model in `pipeline.models` answers them. It owns the classifier's part of the XDP object:
// it wires the tail-called stages, and PushModel and `config.artifact` go through its parameter
// slots (written idle, verified in the kernel against the reference, then swapped). Each version
// it hands out is first reserved in dataplane.state_dir (version-state.ts): versions keep
// increasing across restarts, so a version in a flow record or the alert log names one model.
import { Classification, Verdict } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { s } from "../../../core/config/schema.ts";
import { definePlugin } from "../../../core/plugin-api/types.ts";
import { coreServices } from "../../../core/plugin-api/services.ts";
import { pluginInfo, serving } from "../../../core/plugin-api/info.ts";
import { ModelSlots } from "./model-slots.ts";
import { KernelModelUpdater, RecordingModelUpdater, type ModelUpdater } from "./updater.ts";
import { ModelVersionState } from "./version-state.ts";

/** Artifact kinds the in-kernel classifier runs (XGBoost stays in user space). */
export const KERNEL_KINDS = ["mlp-int32", "dt", "gbt"];

function checkKernelKind(kind: string, dir: string): void {
  if (!KERNEL_KINDS.includes(kind)) throw new Error(`the kernel runs ${KERNEL_KINDS.slice(0, -1).join(", ")} or ${KERNEL_KINDS.at(-1)} artifacts, ${dir} is ${kind}`);
}

const config = s.object({
  /** Artifact (mlp-int32, dt or gbt) to load into the kernel at start; empty = none (records carry no
   *  kernel verdict and this plugin abstains). */
  artifact: s.default(s.string(), ""),
});

export const kernelModel = () =>
  definePlugin({
    name: "kernel",
    kind: "model",
    description: "verdicts of the in-kernel int32 MLP or tree (read from the flow record); hot update through two slots",
    config,
    deps: { dataplane: coreServices.dataplane, artifacts: coreServices.artifacts },
    async init(ctx) {
      const kernel = ctx.deps.dataplane.kernel;
      const versions = new ModelVersionState(ctx.deps.dataplane.settings.state_dir, ctx.id, ctx.log);
      // Read now, so that a state that cannot be read stops the start (with the path and the
      // reason) instead of the first push.
      const last = versions.last();
      ctx.log.info(last ? `model versions continue after ${last} (${versions.path})` : `model versions start at 1 (no ${versions.path} yet)`);
      const updater: ModelUpdater = kernel ? new KernelModelUpdater(new ModelSlots(kernel.coll), versions) : new RecordingModelUpdater(versions);
      const push = async (dir: string) => {
        const artifact = await ctx.deps.artifacts.load(dir);
        checkKernelKind(artifact.kind, dir);
        const { version } = await updater.push(artifact);
        return { model: artifact.name, version };
      };
      if (ctx.config.artifact) {
        const r = await push(ctx.config.artifact);
        ctx.log.info(`loaded ${r.model} as version ${r.version}`);
      }
      return {
        describe: async () => {
          const cur = updater.current();
          return pluginInfo(ctx.id, "model", "1", "in-kernel int32 MLP verdicts", {
            model: cur?.name ?? "",
            model_version: String(cur?.version ?? 0),
            artifact: cur?.dir ?? "", // `xids explain` recomputes the scores with it
            hot_update: updater.wired ? "kernel" : "recorded-only",
          });
        },
        health: async () => serving(),
        classify: async (records) =>
          records.map((r) =>
            Classification.create({
              flowId: r.id,
              verdict: r.kernelVerdict,
              score: r.kernelScore,
              label: r.kernelVerdict === Verdict.VERDICT_ATTACK ? "ATTACK" : r.kernelVerdict === Verdict.VERDICT_BENIGN ? "BENIGN" : "",
              model: r.kernelVerdict === Verdict.VERDICT_NONE ? "" : `kernel-mlp v${r.modelVersion}`,
            }),
          ),
        update: async (artifact) => {
          checkKernelKind(artifact.kind, artifact.dir);
          const { version } = await updater.push(artifact);
          return { model: artifact.name, version };
        },
      };
    },
  });
