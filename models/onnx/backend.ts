// Serve any ONNX binary classifier with a float input [N, K] through onnxruntime-node (CPU).
// Output conventions handled: a probabilities tensor [N, 2] (attack = column 1) or [N] / [N, 1]
// (probability of attack), plus an optional int64 label output.
import * as ort from "onnxruntime-node";

export interface OnnxScores {
  /** P(attack) per row. */
  prob: Float32Array;
  /** Predicted class per row (the model's own label output if present, else prob > 0.5). */
  label: Uint8Array;
}

export class OnnxBackend {
  private constructor(private session: ort.InferenceSession, readonly nFeatures: number, readonly inputName: string) {}

  static async load(path: string, nFeatures: number): Promise<OnnxBackend> {
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const inputName = session.inputNames[0];
    if (!inputName) throw new Error(`${path}: ONNX model has no input`);
    return new OnnxBackend(session, nFeatures, inputName);
  }

  /** Score a row-major batch (n x nFeatures). */
  async score(x: Float32Array | Float64Array, n: number): Promise<OnnxScores> {
    if (x.length !== n * this.nFeatures) throw new RangeError(`batch has ${x.length} values, expected ${n} x ${this.nFeatures}`);
    const input = new ort.Tensor("float32", x instanceof Float32Array ? x : Float32Array.from(x), [n, this.nFeatures]);
    const out = await this.session.run({ [this.inputName]: input });
    let prob: Float32Array | null = null;
    let label: Uint8Array | null = null;
    for (const name of this.session.outputNames) {
      const t = out[name]!;
      if (t.type === "float32") {
        const d = t.data as Float32Array;
        const cols = d.length / n;
        prob = cols === 2 ? Float32Array.from({ length: n }, (_, i) => d[i * 2 + 1]!) : d.slice();
      } else if (t.type === "int64" && t.dims.length === 1) {
        const d = t.data as BigInt64Array;
        label = Uint8Array.from(d, (v) => (v === 1n ? 1 : 0));
      }
    }
    if (!prob) throw new Error("ONNX model has no float output");
    return { prob, label: label ?? Uint8Array.from(prob, (p) => (p > 0.5 ? 1 : 0)) };
  }

  close(): void {
    void this.session.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
