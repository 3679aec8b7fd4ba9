// User-space model backends under Bun, in flows per second at several batch sizes: the shipped
// XGBoost through the ONNX backend, through a bare ORT session (its baseline), through the
// compiled evaluator (generated code, and the typed-array walk it was measured against), and the
// TypeScript int32 MLP; each sample of one batch size runs them back to back, ONNX backend and bare
// session always adjacent, so their ratio is per pair. Also the round trip of one Classify over
// the gRPC plugin bus (unix socket) beside the same call in-process.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { remoteModel } from "../core/bus/remote.ts";
import { servePlugin } from "../core/bus/serve.ts";
import type { ModelApi } from "../core/plugin-api/types.ts";
import { probeVectors } from "../plugins/models/kernel/probes.ts";
import { Classification, FlowRecord, HealthResponse, HealthResponse_Status, PluginInfo, Verdict } from "../proto/gen/xids/plugin/v1/common.ts";
import { CompiledEnsemble, inferInt32, loadArtifact, OnnxBackend, type MlpModel, type XgbModel } from "../models/index.ts";
import * as ort from "onnxruntime-node";
import { median } from "./stats.ts";

const REPO = join(import.meta.dir, "..");

export interface UserspaceOptions {
  batchSizes: number[];
  /** Wall time per sample of one batch size. */
  sampleMs: number;
  samples: number;
  /** Sequential Classify calls per round-trip sample. */
  rpcCalls: number;
  log: (msg: string) => void;
}

export interface UserspaceResults {
  onnx_flows_per_s: number | null;
  onnx_best_batch: number | null;
  onnx_by_batch: Record<string, number>;
  /** The same model through a bare onnxruntime session (tensor built once, outputs not
   *  converted): how much of the backend's cost is ONNX Runtime itself. */
  onnx_session_by_batch: Record<string, number>;
  /** ONNX backend over bare session per batch: the median of the per-sample ratios, each pair
   *  measured back to back (goal >= 0.95). */
  onnx_ratio_vs_session_by_batch: Record<string, number>;
  /** The compiled evaluator (generated code, the artifact plugin's default backend). */
  xgb_compiled_flows_per_s: number;
  xgb_compiled_best_batch: number;
  xgb_compiled_by_batch: Record<string, number>;
  /** The same trees walked from flat typed arrays (what the generated code is measured against). */
  xgb_flat_by_batch: Record<string, number>;
  /** Compiled over bare session per batch (median of per-sample ratios). */
  xgb_compiled_ratio_vs_session_by_batch: Record<string, number>;
  /** Flows per CPU-second of this process in the same runs (user + system time): what one core
   *  gives when other work shares the machine and wall time stretches. */
  onnx_session_cpu_by_batch: Record<string, number>;
  xgb_compiled_cpu_by_batch: Record<string, number>;
  ts_mlp_flows_per_s: number;
  ts_mlp_by_batch: Record<string, number>;
  grpc_roundtrip_us: number | null;
  inprocess_call_us: number | null;
  grpc_note: string | null;
}

/** n x 22 kernel feature vectors (seeded), as floats. */
function featureRows(n: number): Float64Array {
  const rows = probeVectors(Math.max(n, 2) + 2).slice(2, n + 2);
  const out = new Float64Array(n * 22);
  rows.forEach((r, i) => r.forEach((v, f) => (out[i * 22 + f] = Number(v))));
  return out;
}

interface Rate {
  /** Flows per wall-clock second. */
  wall: number;
  /** Flows per CPU-second of the process. */
  cpu: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs `step` (which handles `batch` flows) repeatedly for ~ms of wall time. */
async function rate(batch: number, ms: number, step: () => unknown): Promise<Rate> {
  await step(); // warm-up
  let flows = 0;
  const c0 = cpuMs();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    await step();
    flows += batch;
    t = performance.now();
  }
  const c = cpuMs() - c0;
  return { wall: (flows / (t - t0)) * 1000, cpu: c > 0 ? (flows / c) * 1000 : NaN };
}

export async function benchUserspace(opts: UserspaceOptions): Promise<UserspaceResults> {
  const { log } = opts;
  const xgb = loadArtifact(join(REPO, "models", "artifacts", "xgb")) as XgbModel;
  const mlp = loadArtifact(join(REPO, "models", "artifacts", "mlp-int32")) as MlpModel;
  const maxB = Math.max(...opts.batchSizes);
  const x22 = featureRows(Math.min(maxB, 8192));
  const select = (features: number[], n: number): Float32Array => {
    const k = features.length;
    const out = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const r = i % (x22.length / 22);
      for (let c = 0; c < k; c++) out[i * k + c] = x22[r * 22 + features[c]!]!;
    }
    return out;
  };

  const onnx_by_batch: Record<string, number> = {};
  const onnx_session_by_batch: Record<string, number> = {};
  const onnx_ratio_vs_session_by_batch: Record<string, number> = {};
  const xgb_compiled_by_batch: Record<string, number> = {};
  const xgb_flat_by_batch: Record<string, number> = {};
  const xgb_compiled_ratio_vs_session_by_batch: Record<string, number> = {};
  const onnx_session_cpu_by_batch: Record<string, number> = {};
  const xgb_compiled_cpu_by_batch: Record<string, number> = {};
  const ts_mlp_by_batch: Record<string, number> = {};
  const session = await ort.InferenceSession.create(xgb.onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  using be = await OnnxBackend.load(xgb.onnxPath, xgb.features.length);
  const compiled = CompiledEnsemble.load(xgb, "generated");
  const flat = CompiledEnsemble.load(xgb, "flat");
  const mlpRows = (n: number) => {
    const x = select(mlp.features, n);
    const k = mlp.features.length;
    return Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * k, (i + 1) * k), Math.floor));
  };
  for (const B of opts.batchSizes) {
    const xx = select(xgb.features, B);
    const rows = mlpRows(B);
    const feeds = { [session.inputNames[0]!]: new ort.Tensor("float32", xx, [B, xgb.features.length]) };
    // The backends' hot paths: features into their own input buffer, answers from their arrays
    // (the bare session gets its tensor prebuilt and its outputs unread: the baseline).
    const runs: Record<string, () => unknown> = {
      onnx: () => {
        be.input(B).set(xx);
        return be.run(B);
      },
      session: () => session.run(feeds),
      compiled: () => {
        compiled.input(B).set(xx);
        return compiled.run(B);
      },
      flat: () => {
        flat.input(B).set(xx);
        return flat.run(B);
      },
      mlp: () => {
        let attacks = 0;
        for (const r of rows) if (inferInt32(mlp.params, r).attack) attacks++;
        return attacks;
      },
    };
    const got: Record<string, Rate[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (let s = 0; s < opts.samples; s++) {
      // ONNX backend and bare session adjacent, their order alternating; the rest after them.
      const order = s % 2 === 0 ? ["onnx", "session", "compiled", "flat", "mlp"] : ["session", "onnx", "flat", "compiled", "mlp"];
      for (const name of order) got[name]!.push(await rate(B, opts.sampleMs, runs[name]!));
    }
    const wall = (name: string) => median(got[name]!.map((r) => r.wall));
    const ratio = (a: string, b: string) => median(got[a]!.map((r, i) => r.wall / got[b]![i]!.wall));
    onnx_by_batch[B] = wall("onnx");
    onnx_session_by_batch[B] = wall("session");
    onnx_ratio_vs_session_by_batch[B] = ratio("onnx", "session");
    xgb_compiled_by_batch[B] = wall("compiled");
    xgb_flat_by_batch[B] = wall("flat");
    xgb_compiled_ratio_vs_session_by_batch[B] = ratio("compiled", "session");
    onnx_session_cpu_by_batch[B] = median(got.session!.map((r) => r.cpu));
    xgb_compiled_cpu_by_batch[B] = median(got.compiled!.map((r) => r.cpu));
    ts_mlp_by_batch[B] = wall("mlp");
    const f = (v: number) => Math.round(v);
    log(
      `batch ${B}: onnx backend ${f(onnx_by_batch[B]!)} flows/s, bare session ${f(onnx_session_by_batch[B]!)} (ratio ${onnx_ratio_vs_session_by_batch[B]!.toFixed(3)}), ` +
        `compiled ${f(xgb_compiled_by_batch[B]!)} (x${xgb_compiled_ratio_vs_session_by_batch[B]!.toFixed(2)} of the session; flat walk ${f(xgb_flat_by_batch[B]!)}), ` +
        `per CPU-second: session ${f(onnx_session_cpu_by_batch[B]!)}, compiled ${f(xgb_compiled_cpu_by_batch[B]!)}; ts int32 mlp ${f(ts_mlp_by_batch[B]!)}`,
    );
  }
  await session.release();
  const bestOf = (by: Record<string, number>) => {
    let best: number | null = null;
    for (const B of opts.batchSizes) if (best === null || by[B]! > by[best]!) best = B;
    return best;
  };
  const best = bestOf(onnx_by_batch);
  const compiledBest = bestOf(xgb_compiled_by_batch)!;

  // gRPC round trip: the TypeScript MLP served as a ModelBackend on a unix socket.
  const record = FlowRecord.create({
    id: 1, family: 4, protocol: 6, endReason: 1, srcAddr: "198.18.0.1", srcPort: 40000, dstAddr: "198.18.0.2", dstPort: 443,
    features: Array.from(x22.subarray(0, 22)),
  });
  const api: ModelApi = {
    describe: async () => PluginInfo.create({ id: "bench-mlp", version: "1" }),
    health: async () => HealthResponse.create({ status: HealthResponse_Status.STATUS_SERVING }),
    classify: async (records) =>
      records.map((r) => {
        const res = inferInt32(mlp.params, mlp.features.map((f) => Math.floor(r.features[f] ?? 0)));
        return Classification.create({ flowId: r.id, verdict: res.attack ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN, score: res.score });
      }),
  };
  let grpc_roundtrip_us: number | null = null;
  let inprocess_call_us: number | null = null;
  let grpc_note: string | null = null;
  const sock = join(tmpdir(), `xids-bench-${process.pid}.sock`);
  try {
    const server = await servePlugin(`unix:${sock}`, { model: api });
    const client = remoteModel(server.address, { timeoutMs: 5_000 });
    try {
      for (let i = 0; i < 50; i++) await client.classify([record]); // connect + warm-up
      const g: number[] = [];
      const p: number[] = [];
      for (let s = 0; s < opts.samples; s++) {
        let t0 = performance.now();
        for (let i = 0; i < opts.rpcCalls; i++) await client.classify([record]);
        g.push(((performance.now() - t0) * 1000) / opts.rpcCalls);
        t0 = performance.now();
        for (let i = 0; i < opts.rpcCalls; i++) await api.classify([record]);
        p.push(((performance.now() - t0) * 1000) / opts.rpcCalls);
      }
      grpc_roundtrip_us = median(g);
      inprocess_call_us = median(p);
      log(`grpc round trip ${grpc_roundtrip_us.toFixed(1)} µs (in-process ${inprocess_call_us.toFixed(2)} µs)`);
    } finally {
      client.close();
      await server.close();
    }
  } catch (err) {
    grpc_note = `gRPC round trip failed: ${(err as Error).message}`;
    log(grpc_note);
  } finally {
    rmSync(sock, { force: true });
  }
  return {
    onnx_flows_per_s: best === null ? null : onnx_by_batch[best]!,
    onnx_best_batch: best,
    onnx_by_batch,
    onnx_session_by_batch,
    onnx_ratio_vs_session_by_batch,
    xgb_compiled_flows_per_s: xgb_compiled_by_batch[compiledBest]!,
    xgb_compiled_best_batch: compiledBest,
    xgb_compiled_by_batch,
    xgb_flat_by_batch,
    xgb_compiled_ratio_vs_session_by_batch,
    onnx_session_cpu_by_batch,
    xgb_compiled_cpu_by_batch,
    ts_mlp_flows_per_s: Math.max(...Object.values(ts_mlp_by_batch)),
    ts_mlp_by_batch,
    grpc_roundtrip_us,
    inprocess_call_us,
    grpc_note,
  };
}
