// The compiled tree-ensemble backend: the shipped XGBoost trees evaluated in TypeScript with ORT's
// answers (same trees, float32 compares and sums in ORT's order, ORT's float32 logistic), beside
// the ONNX backend (models/onnx/backend.ts) with the same input/run interface. Buffers are owned
// here, grown and reused: no per-flow objects.
import type { XgbModel } from "../artifact/load.ts";
import type { OnnxScores } from "../onnx/backend.ts";
import { generateAccumulator, type Accumulator } from "./codegen.ts";
import { accumulateFlat, loadFlatEnsemble, type FlatEnsemble } from "./flat.ts";

/** "generated": the trees as generated code (the fast path); "flat": the typed-array walk. */
export type CompiledKernel = "generated" | "flat";

export class CompiledEnsemble {
  private x = new Float32Array(0);
  private margin = new Float32Array(0);
  private prob = new Float32Array(0);
  private label = new Uint8Array(0);
  private readonly accumulate: Accumulator;

  constructor(readonly trees: FlatEnsemble, readonly kernel: CompiledKernel = "generated") {
    this.accumulate = kernel === "generated" ? generateAccumulator(trees) : (x, n, m) => accumulateFlat(trees, x, n, m);
  }

  static load(model: XgbModel, kernel: CompiledKernel = "generated"): CompiledEnsemble {
    return new CompiledEnsemble(loadFlatEnsemble(model), kernel);
  }

  get nFeatures(): number {
    return this.trees.nFeatures;
  }

  /** The input buffer for n rows (n x nFeatures, row-major): write features here, then run(n). */
  input(n: number): Float32Array {
    const need = n * this.trees.nFeatures;
    if (this.x.length < need) this.x = new Float32Array(need);
    return this.x.subarray(0, need);
  }

  /** Scores the n rows in the input buffer; the arrays returned are reused by the next call. */
  run(n: number): OnnxScores {
    if (this.x.length < n * this.trees.nFeatures) throw new RangeError(`run(${n}) before input(${n})`);
    if (this.prob.length < n) {
      this.margin = new Float32Array(n);
      this.prob = new Float32Array(n);
      this.label = new Uint8Array(n);
    }
    const m = this.margin, prob = this.prob, label = this.label;
    m.fill(0, 0, n);
    this.accumulate(this.x, n, m);
    const b = this.trees.baseMargin;
    for (let r = 0; r < n; r++) {
      // ORT adds base_values after the trees, then applies LOGISTIC; its label is margin > 0.
      const s = Math.fround(m[r]! + b);
      prob[r] = logistic(s);
      label[r] = s > 0 ? 1 : 0;
    }
    return { prob: prob.subarray(0, n), label: label.subarray(0, n) };
  }

  /** Score a row-major batch given as its own array (copied in); answers in new arrays that
   *  later calls leave alone (run() is the allocation-free path). */
  score(x: Float32Array | Float64Array, n: number): OnnxScores {
    if (x.length !== n * this.trees.nFeatures) throw new RangeError(`batch has ${x.length} values, expected ${n} x ${this.trees.nFeatures}`);
    this.input(n).set(x);
    const out = this.run(n);
    return { prob: out.prob.slice(), label: out.label.slice() };
  }

  close(): void {}
}

/** ORT's ComputeLogistic in float32: 1 / (1 + exp(-|v|)), mirrored for v < 0. */
function logistic(v: number): number {
  const p = Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-Math.abs(v)))));
  return v < 0 ? Math.fround(1 - p) : p;
}
