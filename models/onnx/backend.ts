// Serve any ONNX binary classifier with a float input [N, K] through onnxruntime-node (CPU).
// Output conventions handled: a probabilities tensor [N, 2] (attack = column 1) or [N] / [N, 1]
// (probability of attack), plus an optional int64 label output.
// The hot path makes no per-flow objects: callers write features into a Float32Array the backend
// owns (grown, reused, one ORT tensor per batch size kept), and read labels and probabilities
// from typed arrays it reuses, so its cost is ORT's own (bench: onnx_ratio_vs_session_by_batch).
import * as ort from "onnxruntime-node";

export interface OnnxScores {
  /** P(attack) per row. */
  prob: Float32Array;
  /** Predicted class per row (the model's own label output if present, else prob > 0.5). */
  label: Uint8Array;
}

/** Batch sizes whose input tensor is kept; past that the cache starts again (bounded memory). */
const MAX_CACHED_SHAPES = 32;

/** What one batch size needs on each call, made once: the input view and tensor, the answers. */
interface Shape {
  input: Float32Array;
  feeds: Record<string, ort.Tensor>;
  scores: OnnxScores;
}

export class OnnxBackend {
  private x = new Float32Array(0);
  private prob = new Float32Array(0);
  private label = new Uint8Array(0);
  private shapes = new Map<number, Shape>();
  private last: { n: number; shape: Shape } | null = null;
  private readonly outputs: readonly string[];

  private constructor(private session: ort.InferenceSession, readonly nFeatures: number, readonly inputName: string) {
    this.outputs = [...session.outputNames]; // a native getter: read once
  }

  static async load(path: string, nFeatures: number): Promise<OnnxBackend> {
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const inputName = session.inputNames[0];
    if (!inputName) throw new Error(`${path}: ONNX model has no input`);
    return new OnnxBackend(session, nFeatures, inputName);
  }

  private shape(n: number): Shape {
    if (this.last?.n === n) return this.last.shape;
    let shape = this.shapes.get(n);
    if (!shape) {
      const need = n * this.nFeatures;
      if (this.x.length < need || this.prob.length < n) {
        // Grown to the next power of two so a slowly rising batch size does not reallocate each
        // time; the cached shapes view the old buffers.
        this.x = new Float32Array(2 ** Math.ceil(Math.log2(need)));
        this.prob = new Float32Array(this.x.length / this.nFeatures);
        this.label = new Uint8Array(this.prob.length);
        this.shapes.clear();
      }
      if (this.shapes.size >= MAX_CACHED_SHAPES) this.shapes.clear();
      const input = this.x.subarray(0, need);
      shape = {
        input,
        feeds: { [this.inputName]: new ort.Tensor("float32", input, [n, this.nFeatures]) },
        scores: { prob: this.prob.subarray(0, n), label: this.label.subarray(0, n) },
      };
      this.shapes.set(n, shape);
    }
    this.last = { n, shape };
    return shape;
  }

  /** The input buffer for n rows (n x nFeatures, row-major): write features here, then run(n). */
  input(n: number): Float32Array {
    return this.shape(n).input;
  }

  /**
   * Scores the n rows in the input buffer. The arrays returned are reused by the next call: one
   * run at a time per backend (the caller serialises), results read before the next.
   */
  async run(n: number): Promise<OnnxScores> {
    const shape = this.last?.n === n ? this.last.shape : this.shapes.get(n);
    if (!shape) throw new RangeError(`run(${n}) before input(${n})`);
    const out = await this.session.run(shape.feeds);
    const { prob, label } = shape.scores;
    let haveProb = false, haveLabel = false;
    for (let o = 0; o < this.outputs.length; o++) {
      const t = out[this.outputs[o]!]!;
      if (t.type === "float32") {
        const d = t.data as Float32Array;
        if (d.length === 2 * n) for (let i = 0; i < n; i++) prob[i] = d[2 * i + 1]!;
        else prob.set(d.subarray(0, n));
        haveProb = true;
      } else if (t.type === "int64" && t.dims.length === 1) {
        // The int64 labels read as int32 pairs (little endian, labels 0/1): no BigInt per row.
        const d = t.data as BigInt64Array;
        const w = new Int32Array(d.buffer, d.byteOffset, 2 * n);
        for (let i = 0; i < n; i++) label[i] = w[2 * i] === 1 && w[2 * i + 1] === 0 ? 1 : 0;
        haveLabel = true;
      }
    }
    if (!haveProb) throw new Error("ONNX model has no float output");
    if (!haveLabel) for (let i = 0; i < n; i++) label[i] = prob[i]! > 0.5 ? 1 : 0;
    return shape.scores;
  }

  /** Score a row-major batch given as its own array (copied in); answers in new arrays that
   *  later calls leave alone (run() is the allocation-free path). */
  async score(x: Float32Array | Float64Array, n: number): Promise<OnnxScores> {
    if (x.length !== n * this.nFeatures) throw new RangeError(`batch has ${x.length} values, expected ${n} x ${this.nFeatures}`);
    this.input(n).set(x);
    const out = await this.run(n);
    return { prob: out.prob.slice(), label: out.label.slice() };
  }

  close(): void {
    void this.session.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
