// Binary classification metrics that do not hide the skewed class balance: FPR, MCC and PR-AUC
// next to accuracy/F1. Pure function of labels, predictions and scores, reused by every backend
// (including the kernel evaluation through BPF_PROG_TEST_RUN).

export interface Metrics {
  n: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
  mcc: number;
  pr_auc: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/**
 * @param y true labels (0 benign, 1 attack)
 * @param pred predicted labels
 * @param score higher = more attack-like (logit difference, probability); used only for PR-AUC
 */
export function computeMetrics(y: ArrayLike<number>, pred: ArrayLike<number>, score?: ArrayLike<number>): Metrics {
  if (y.length !== pred.length) throw new Error(`metrics: ${y.length} labels but ${pred.length} predictions`);
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < y.length; i++) {
    const t = y[i]!, p = pred[i]!;
    if (p) { if (t) tp++; else fp++; } else if (t) fn++; else tn++;
  }
  const n = y.length;
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision = div(tp, tp + fp);
  const recall = div(tp, tp + fn);
  const mccDen = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return {
    n,
    accuracy: div(tp + tn, n),
    precision,
    recall,
    f1: div(2 * precision * recall, precision + recall),
    fpr: div(fp, fp + tn),
    mcc: div(tp * tn - fp * fn, mccDen),
    pr_auc: prAuc(y, score ?? pred),
    tp, fp, tn, fn,
  };
}

/** Area under the precision-recall curve as average precision (step-wise, ties grouped). */
export function prAuc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const idx = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  if (pos === 0) return 0;
  let tp = 0, fp = 0, ap = 0, prevRecall = 0;
  for (let i = 0; i < idx.length; ) {
    const s = score[idx[i]!]!;
    // A group of equal scores is one threshold.
    while (i < idx.length && score[idx[i]!]! === s) {
      if (y[idx[i]!]) tp++; else fp++;
      i++;
    }
    const recall = tp / pos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

/** The subset printed by `xids eval` (the JSON contract). */
export function publicMetrics(m: Metrics): Omit<Metrics, "tp" | "fp" | "tn" | "fn"> {
  const { tp: _a, fp: _b, tn: _c, fn: _d, ...rest } = m;
  return rest;
}
