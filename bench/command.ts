// `xids bench`: per-packet, per-flow, memory, throughput and user-space model figures, each
// beside a baseline measured in the same run (bench/run.ts; method and results in BENCHMARKS.md).
import { parseFlags, UsageError } from "../core/cli/args.ts";
import { writeFileSync } from "node:fs";
import type { Command } from "../core/cli/command.ts";
import { runBench } from "./run.ts";
import { benchFleet, fleetTable } from "./fleet.ts";
import { MATRIX_MLP_EPOCHS, runSweep, SWEEP_SHAPES, sweepTable } from "./mlp-sweep.ts";

const spec = { json: "boolean", quick: "boolean", "skip-throughput": "boolean", "skip-testbed": "boolean", fleet: "boolean",
  "mlp-sweep": "boolean", epochs: "number", shapes: "string", v3: "boolean", out: "string", artifact: "string" } as const;

/** "8;16;8,8" -> [[8], [16], [8, 8]]. */
function parseShapes(s: string): number[][] {
  return s.split(";").map((shape) => shape.split(",").map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--shapes: "${v}" is not a layer width in 1..64 (shapes: "8;16;8,8")`);
    return n;
  }));
}

export const command: Command = {
  name: "bench",
  summary: "benchmark xids against baselines measured in the same run (table; --json)",
  help: `usage: xids bench [--json] [--quick] [--skip-throughput] [--skip-testbed]
       xids bench --fleet [--quick] [--json]
       xids bench --mlp-sweep [--epochs N] [--shapes "8;16;8,8"] [--v3] [--quick] [--out FILE.md] [--artifact DIR] [--json]

Measures, each beside a baseline from the same run (needs root, BPF, veth and namespaces):
  - per-packet cost in the kernel (BPF_PROG_TEST_RUN, 1e6 repeats, median of 5): bare XDP_PASS,
    xids on a mid-flow packet, on a flow-ending packet with in-kernel inference, a blocked
    source's packet against a bare XDP_DROP;
  - in-kernel inference per flow for the shipped MLP, a [6,32,32,2] MLP and the tree;
  - memory per flow-table entry and per model slot (the paper: 48 B, 5,248 B);
  - iperf3 TCP and UDP small-packet rate over veth between namespaces ("xidsb..."), with and
    without xids attached natively;
  - the ONNX XGBoost backend and the TypeScript int32 MLP in flows/s at batch sizes 1..8192,
    and one Classify round trip over the gRPC plugin bus;
  - detection latency on the real-time testbed (first attack packet to the first packet dropped,
    per attack), beside the goal of detection under 2 s.
Prints the table (metric | xids | baseline | ratio / goal | status) on stdout; progress on
stderr. Goals are reported, never enforced: the exit code is 0 whatever the timings.
  --json             also print every figure as one JSON object on the last line
  --quick            fewer repeats and shorter runs (a smoke test, not for publishing)
  --skip-throughput  leave out the iperf3 runs
  --skip-testbed     leave out the testbed (detection latency)
  --fleet            only the fleet simulation (bench/fleet.ts): 50 agents on the in-memory data
                     plane and one nats-server; block propagation p50/p99 and model rollout time
                     (--quick: 10 agents, 20 blocks)
  --mlp-sweep        only the MLP shape sweep (bench/mlp-sweep.ts): per hidden-layer shape
                     (default ${SWEEP_SHAPES.map((s) => s.join(",")).join(";")}) an int32 MLP trained
                     on models/datasets/matrix with matrix-mlp's recipe (--epochs, default
                     ${MATRIX_MLP_EPOCHS}, the same for all), its F1/recall/FPR on the unseen run
                     models/datasets/matrix-holdout and its ns per flow in the kernel (eval minus an
                     empty slot); the shipped matrix-mlp as a reference row. --v3 also times the
                     -mcpu=v3 build; --out writes the table (markdown); --quick fewer repeats;
                     --artifact DIR (one shape) writes that model's artifact, judged on the holdout

example:
  bun run xids bench --json`,
  async run(args) {
    const f = parseFlags(args, spec);
    const log = (msg: string) => console.error(`bench: ${msg}`);
    if (f.fleet) {
      const r = await benchFleet({ agents: f.quick ? 10 : 50, blocks: f.quick ? 20 : 100, log });
      console.log(fleetTable(r));
      if (f.json) console.log(JSON.stringify(r));
      return 0;
    }
    if (f["mlp-sweep"]) {
      const epochs = f.epochs ?? MATRIX_MLP_EPOCHS;
      if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError(`--epochs: expected a positive integer, got ${f.epochs}`);
      const r = await runSweep({
        shapes: f.shapes ? parseShapes(f.shapes) : SWEEP_SHAPES, epochs, v3: f.v3 ?? false,
        repeat: f.quick ? 100_000 : 1_000_000, samples: f.quick ? 3 : 7, log,
        ...(f.artifact ? { artifactOut: f.artifact, command: `bun run xids bench ${args.join(" ")}` } : {}),
      });
      const table = sweepTable(r.rows, epochs);
      console.log(table);
      if (f.out) writeFileSync(f.out, table + "\n");
      if (f.json) console.log(JSON.stringify({ epochs, rows: r.rows }));
      return 0;
    }
    const { result, table } = await runBench({ quick: f.quick ?? false, skipThroughput: f["skip-throughput"] ?? false, skipTestbed: f["skip-testbed"] ?? false, log });
    console.log(table);
    if (f.json) console.log(JSON.stringify(result));
    return 0;
  },
};
