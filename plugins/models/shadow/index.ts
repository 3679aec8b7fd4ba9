// The agent's shadow model (`xids model shadow`, `xids model promote`): at most one candidate
// artifact at a time, judged beside the pipeline on every flow the pipeline gives a verdict, in
// user space, acting on nothing. The composition root hands it to the agent (plugins/index.ts ->
// AgentOptions.shadow); the control API's Shadow* rpcs call it.
import { resolve } from "node:path";
import { status } from "@grpc/grpc-js";
import { RpcError } from "../../../core/bus/grpc.ts";
import { PushModelResponse, ShadowPromoteResponse, ShadowSummary } from "../../../proto/gen/xids/control/v1/control.ts";
import type { ModelArtifact, Shadow, ShadowFactory } from "../../../core/plugin-api/services.ts";
import { modelsArtifactLoader } from "../artifact/loader.ts";
import { folderDigest } from "./digest.ts";
import { ShadowRun } from "./shadow-run.ts";

/** How long a report waits for queued verdicts to be judged before it answers with them pending. */
const SETTLE_MS = 5_000;

export const shadowEvaluator: ShadowFactory = ({ block, model }) => {
  let run: ShadowRun | null = null;
  const running = (): ShadowRun => {
    if (!run) throw new RpcError(status.FAILED_PRECONDITION, "no shadow model is running (start one with xids model shadow <artifact-dir>)");
    return run;
  };
  const shadow: Shadow = {
    async start(dir) {
      let artifact: ModelArtifact, digest: string;
      try {
        artifact = await modelsArtifactLoader.load(dir);
        digest = folderDigest(artifact.dir);
      } catch (err) {
        throw new RpcError(status.INVALID_ARGUMENT, `artifact_path: ${(err as Error).message}`);
      }
      const m = model.current();
      run?.close();
      run = new ShadowRun(artifact, digest, m.version ? `${m.target}: ${m.model} v${m.version}` : m.target, block);
      return run.summary(0);
    },

    observe: (record, verdict, from) => run?.observe(record, verdict, from),

    async report(maxFlows) {
      const r = running();
      await r.settle(SETTLE_MS);
      return r.summary(maxFlows);
    },

    async stop() {
      const r = running();
      await r.settle(SETTLE_MS);
      r.close();
      run = null;
      return r.summary(0);
    },

    async promote(expectedDir) {
      const r = running();
      const dir = r.artifact.dir;
      if (expectedDir && resolve(expectedDir) !== dir) {
        throw new RpcError(status.FAILED_PRECONDITION, `artifact_path: ${expectedDir} is not the artifact under shadow (${dir})`);
      }
      let digest = "";
      try {
        digest = folderDigest(dir);
      } catch (err) {
        throw new RpcError(status.FAILED_PRECONDITION, `artifact_path: ${dir} can no longer be read (${(err as Error).message})`);
      }
      if (digest !== r.digest) throw new RpcError(status.FAILED_PRECONDITION, `artifact_path: the files of ${dir} changed since its shadow started; shadow it again`);
      await r.settle(SETTLE_MS);
      const report: ShadowSummary = r.summary(0);
      // PushModel's own checks and hot swap; if it refuses, the shadow keeps running.
      const pushed = await model.push(dir);
      if (run === r) run = null;
      r.close();
      return ShadowPromoteResponse.create({ pushed: PushModelResponse.create(pushed), report: { ...report, running: false } });
    },

    close() {
      run?.close();
      run = null;
    },
  };
  return shadow;
};
