// `xids loo`: leave-one-out evaluation over testbed recordings (models/evaluation/loo.ts).
import { writeFileSync } from "node:fs";
import { parseFlags, UsageError } from "../../core/cli/args.ts";
import { checkConfig } from "../../core/config/load.ts";
import type { Command } from "../../core/cli/command.ts";
import { FEATURES, LOG_SCALE_FEATURES } from "../data/features.ts";
import { DEFAULT_ALPHA } from "../mlp/quantize.ts";
import { FOLD_KINDS, looFolds, type FoldKind } from "../evaluation/folds.ts";
import { runLoo, type FoldOutcome, type LooOptions } from "../evaluation/loo.ts";
import type { LooRequest, LooWorkerMessage } from "../evaluation/loo-worker.ts";
import { formatLoo, summarizeLoo } from "../evaluation/loo-report.ts";
import { loadRecordings, RECORDED_PREFIX, shortPrefixes } from "../evaluation/recordings.ts";
import { trainFinalModel } from "../evaluation/final-model.ts";
import { falsePositivesCsv } from "../evaluation/false-positives.ts";

/** The recordings of the scenario matrix, and the block policy the default configuration runs. */
export const MATRIX_DATA = "models/datasets/matrix";
export const DEFAULT_POLICY = (() => {
  const r = checkConfig({});
  if (!r.ok) throw new Error("the default configuration does not check");
  const b = r.config.pipeline.block;
  return { minAttacks: b.min_attacks, minAttackPct: b.min_attack_pct, windowS: b.window_seconds };
})();

export const DEFAULT_LOO = {
  model: "mlp", folds: "tool,link", hidden: [32, 32], epochs: 60, lr: 3e-3, batch: 512, l2: 1e-5, targetFpr: 0.0005, scaler: "standard" as const,
  xmaxQuantile: 1, maxPerSource: 200, maxPerBenignSource: 600, runGroups: 2, augment: 0, sizeSigma: 0.3, timeSigma: 0.7, countSigma: 0.3, valShare: 0.2, valRuns: 0, weightPower: 0.5, benignBoost: 5, maxDepth: 12, seed: 14,
};

const spec = {
  data: "string", model: "string", features: "string", folds: "string", only: "string", policy: "string",
  hidden: "string", epochs: "number", lr: "number", "target-fpr": "number", "max-per-source": "number", "max-per-benign-source": "number", "val-runs": "number",
  "weight-power": "number", "run-groups": "number", augment: "number", "size-sigma": "number", "time-sigma": "number", "count-sigma": "number", "xmax-quantile": "number", scaler: "string", log2: "string", "benign-boost": "number", "max-depth": "number", seed: "number", json: "boolean", out: "string", "false-positives": "string", "final-out": "string", jobs: "number",
} as const;

/** The folds run on `jobs` workers, each given the next fold when it is free; outcomes back in the folds' order. */
async function runLooInWorkers(data: string, kinds: FoldKind[], groups: number, names: string[], opt: LooOptions, jobs: number): Promise<FoldOutcome[]> {
  const { log, ...options } = opt;
  const byName = new Map<string, FoldOutcome>();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, names.length) }, () => new Promise<void>((resolve, reject) => {
    const worker = new Worker(new URL("../evaluation/loo-worker.ts", import.meta.url).href);
    const give = () => {
      if (next >= names.length) {
        worker.terminate();
        resolve();
        return;
      }
      const i = next++;
      worker.postMessage({ fold: names[i]!, place: `${i + 1}/${names.length}` } satisfies LooRequest);
    };
    worker.onmessage = (e: MessageEvent<LooWorkerMessage>) => {
      const m = e.data;
      if ("log" in m) log(m.log);
      else if ("ready" in m) give();
      else if ("done" in m) {
        byName.set(m.done.name, m.done);
        give();
      } else {
        worker.terminate();
        reject(new Error(`leave-one-out worker: ${m.error}`));
      }
    };
    worker.onerror = (e) => reject(new Error(`leave-one-out worker: ${e.message}`));
    worker.postMessage({ job: { data, kinds, groups, options } } satisfies LooRequest);
  })));
  return names.map((n) => byName.get(n)!);
}

export const command: Command = {
  name: "loo",
  summary: "leave-one-out over testbed recordings: each attack tool, benign kind and link band held out in turn",
  help: `usage: xids loo [--data DIR] [--model mlp|dt] [--folds tool,benign,link] [--only NAME,...]
                [--features i,j,...] [--policy MIN,PCT,SECONDS] [--out FILE.md] [--json] [training options]

Per fold a model of a kind the kernel runs trains on all the recordings but the held-out traffic
and is judged on it as the kernel would judge (floored inputs; the MLP through the int32
reference), and the kernel's block policy is replayed over each held-out source's verdicts:
  tool    per attack class, one tool held out (all its scenarios of that class); the benign
          traffic of the judged runs gives the false positives
  link    one link-condition band held out (every host behind it)
  benign  one benign kind held out: how a kind of traffic the model never saw fares (harsher
          than the targets ask; not among the default folds)
Every fold is crossed with a group of runs: it trains on the other runs, never on the judged ones.
Prints per held-out scenario the flow recall, sources blocked, median flows and ms before the
block; per benign kind the false positives and sources blocked; per band both; then the pooled
figures and the targets of issue 14 (exit 1 when one fails).

  --data DIR        recordings (default ${MATRIX_DATA}; see its README for how they were made)
  --model KIND      mlp (int32, default) or dt
  --folds LIST      which fold kinds (default ${DEFAULT_LOO.folds})
  --run-groups N    runs dealt into N groups; each held-out fold runs once per group, trained on
                    the other groups' runs and judged on that group's (default ${DEFAULT_LOO.runGroups})
  --only NAMES      only the folds with these names, e.g. PortScan/nmap,BENIGN/busy-nat-client
  --features LIST   kernel feature indices (default: every feature the recordings have)
  --policy M,P,S    block once M attack verdicts are >= P % of the source's verdicts in S seconds
                    (default ${DEFAULT_POLICY.minAttacks},${DEFAULT_POLICY.minAttackPct},${DEFAULT_POLICY.windowS}: the default configuration's)
  --jobs N          run the folds on N worker threads (default 1; each loads the recordings)
  --out FILE        also write the tables (markdown) to FILE
  --false-positives FILE
                    write every benign flow a fold's model called an attack to FILE (CSV: the
                    fold, the flow's run, scenario, place among its source's flows and time since
                    the source's first flow, then its features): what to look at before a change
  --final-out DIR   then train the shipped model the same way on every recording (nothing held
                    out) and write its artifact to DIR, the tables in its REPORT.md
  --json            print one JSON object (summary and every source) as the last line
  training: --hidden ${DEFAULT_LOO.hidden.join(",")} --epochs ${DEFAULT_LOO.epochs} --lr ${DEFAULT_LOO.lr} --target-fpr ${DEFAULT_LOO.targetFpr}
            --max-per-source ${DEFAULT_LOO.maxPerSource} --max-per-benign-source ${DEFAULT_LOO.maxPerBenignSource} (training rows per source)
            --val-runs N (validate on N whole training runs, not ${Math.round(DEFAULT_LOO.valShare * 100)} % of each source's rows) --weight-power ${DEFAULT_LOO.weightPower}
            (a scenario's row weighs n^-power) --scaler ${DEFAULT_LOO.scaler} --xmax-quantile ${DEFAULT_LOO.xmaxQuantile}
            --augment N (jittered copies of each training row, models/data/augment.ts) --size-sigma ${DEFAULT_LOO.sizeSigma}
            --time-sigma ${DEFAULT_LOO.timeSigma} --count-sigma ${DEFAULT_LOO.countSigma} (log-normal spreads of the factors)
            --log2 counts|none|i,j,... (features on a log scale; counts: all but Dst Port and Protocol) --benign-boost ${DEFAULT_LOO.benignBoost} --max-depth ${DEFAULT_LOO.maxDepth} (dt) --seed ${DEFAULT_LOO.seed}

example:
  bun run xids loo --folds tool --only PortScan/nmap,DoS-SYNFlood/hping3`,
  async run(args) {
    const f = parseFlags(args, spec);
    const kind = f.model ?? DEFAULT_LOO.model;
    if (kind !== "mlp" && kind !== "dt") throw new UsageError(`--model: expected mlp or dt, got "${kind}"`);
    const ints = (s: string, what: string) => s.split(",").map((v) => {
      const n = Number(v);
      if (v.trim() === "" || !Number.isInteger(n) || n < 0) throw new UsageError(`${what}: "${v}" is not a non-negative integer`);
      return n;
    });
    const kinds = (f.folds ?? DEFAULT_LOO.folds).split(",").map((k) => k.trim());
    for (const k of kinds) if (!FOLD_KINDS.includes(k as FoldKind)) throw new UsageError(`--folds: "${k}" is not one of ${FOLD_KINDS.join(", ")}`);
    const [minAttacks, minAttackPct, windowS] = f.policy ? ints(f.policy, "--policy") : [DEFAULT_POLICY.minAttacks, DEFAULT_POLICY.minAttackPct, DEFAULT_POLICY.windowS];
    if (f.policy && (ints(f.policy, "--policy").length !== 3 || minAttacks! < 1 || minAttackPct! > 100 || windowS! < 1)) throw new UsageError(`--policy: expected MIN>=1,PCT<=100,SECONDS>=1, got "${f.policy}"`);

    const data = f.data ?? MATRIX_DATA;
    const rec = loadRecordings(data);
    const features = f.features ? ints(f.features, "--features") : rec.data.features;
    const absent = features.filter((i) => !rec.data.features.includes(i));
    if (absent.length) throw new UsageError(`--features: ${data} has no feature ${absent.join(", ")}`);
    let folds = looFolds(rec.rows, kinds as FoldKind[], f["run-groups"] ?? DEFAULT_LOO.runGroups);
    if (f.only) {
      const want = f.only.split(",").map((s) => s.trim());
      const unknown = want.filter((w) => !folds.some((fo) => fo.heldOutName === w || fo.name === w));
      if (unknown.length) throw new UsageError(`--only: no fold named ${unknown.join(", ")} (folds: ${[...new Set(folds.map((fo) => fo.heldOutName))].join(", ")})`);
      folds = folds.filter((fo) => want.includes(fo.heldOutName) || want.includes(fo.name));
    }
    const short = shortPrefixes(rec);
    if (short.length) {
      console.warn(`warning: ${short.length} source(s) have a gap in Seq within their first ${RECORDED_PREFIX} flows, so the block policy is replayed over fewer flows than they sent: ` +
        short.slice(0, 10).map((s) => `${s.source} (${s.prefix} of ${s.rows})`).join(", ") + (short.length > 10 ? ", ..." : ""));
    }
    console.log(`${data}: ${rec.data.n} flows from ${rec.bySource.size} sources, ${new Set(rec.rows.map((r) => r.run)).size} runs; ${folds.length} folds; ${kind} on ${features.length} features (${features.map((i) => FEATURES[i]!.name).join(", ")})`);
    const opt: LooOptions = {
      model: {
        kind, features, alpha: DEFAULT_ALPHA, maxDepth: f["max-depth"] ?? DEFAULT_LOO.maxDepth,
        mlp: {
          hidden: f.hidden ? ints(f.hidden, "--hidden") : DEFAULT_LOO.hidden, epochs: f.epochs ?? DEFAULT_LOO.epochs, batch: DEFAULT_LOO.batch,
          lr: f.lr ?? DEFAULT_LOO.lr, l2: DEFAULT_LOO.l2, seed: f.seed ?? DEFAULT_LOO.seed, scaler: f.scaler === undefined ? DEFAULT_LOO.scaler : f.scaler === "standard" || f.scaler === "robust" ? f.scaler : (() => { throw new UsageError(`--scaler: expected standard or robust, got "${f.scaler}"`); })(),
          xmaxQuantile: f["xmax-quantile"] ?? DEFAULT_LOO.xmaxQuantile,
          log2Features: (f.log2 ?? "counts") === "counts" ? LOG_SCALE_FEATURES : f.log2 === "none" ? [] : ints(f.log2!, "--log2"), targetFpr: f["target-fpr"] ?? DEFAULT_LOO.targetFpr,
        },
      },
      policy: { minAttacks: minAttacks!, minAttackPct: minAttackPct!, windowUs: windowS! * 1_000_000 },
      maxTrainPerSource: f["max-per-source"] ?? DEFAULT_LOO.maxPerSource,
      maxTrainPerBenignSource: f["max-per-benign-source"] ?? DEFAULT_LOO.maxPerBenignSource,
      valShare: DEFAULT_LOO.valShare,
      valRuns: f["val-runs"] ?? DEFAULT_LOO.valRuns,
      scenarioWeightPower: f["weight-power"] ?? DEFAULT_LOO.weightPower,
      benignBoost: f["benign-boost"] ?? DEFAULT_LOO.benignBoost,
      augment: {
        copies: f.augment ?? DEFAULT_LOO.augment, sizeSigma: f["size-sigma"] ?? DEFAULT_LOO.sizeSigma,
        timeSigma: f["time-sigma"] ?? DEFAULT_LOO.timeSigma, countSigma: f["count-sigma"] ?? DEFAULT_LOO.countSigma, seed: f.seed ?? DEFAULT_LOO.seed,
      },
      seed: f.seed ?? DEFAULT_LOO.seed,
      log: (l) => console.log(l),
    };
    const t0 = performance.now();
    const jobs = f.jobs ?? 1;
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: expected a positive integer, got ${f.jobs}`);
    const outcomes = jobs === 1 ? runLoo(rec, folds, opt) : await runLooInWorkers(data, kinds as FoldKind[], f["run-groups"] ?? DEFAULT_LOO.runGroups, folds.map((fo) => fo.name), opt, jobs);
    const summary = summarizeLoo(outcomes);
    const text = formatLoo(summary);
    console.log(`\n${text}\n\n${folds.length} folds in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    if (f.out) writeFileSync(f.out, text + "\n");
    if (f["false-positives"]) {
      writeFileSync(f["false-positives"], falsePositivesCsv(rec, outcomes));
      console.log(`wrote ${outcomes.reduce((n, o) => n + o.falsePositives.length, 0)} false positives to ${f["false-positives"]}`);
    }
    if (f["final-out"]) {
      trainFinalModel(rec, opt, f["final-out"], { data, command: `bun run xids loo ${args.join(" ")}`, looText: text, loo: summary });
      console.log(`wrote ${f["final-out"]} (${kind}); its REPORT.md carries these figures`);
    }
    if (f.json) console.log(JSON.stringify({ summary, sources: outcomes.flatMap((o) => o.sources) }));
    return summary.checks.every((c) => c.ok) ? 0 : 1;
  },
};
