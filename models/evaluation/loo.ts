// Leave-one-out evaluation over testbed recordings: per fold (folds.ts) a model of a kernel kind
// trains on everything but the held-out traffic and is judged on it, flow by flow and source by
// source: would the kernel's block policy, replayed over that source's verdicts (block-policy.ts),
// have blocked it, and after how many flows and how long.
import { augmentRows, type AugmentOptions } from "../data/augment.ts";
import { N_FEATURES } from "../data/features.ts";
import { rng, shuffle } from "../data/split.ts";
import { simulateBlocks, type BlockPolicy } from "./block-policy.ts";
import { fitFoldModel, type FoldModelOptions } from "./fold-model.ts";
import type { Fold, FoldKind } from "./folds.ts";
import { contiguousPrefix, type Recordings } from "./recordings.ts";

export interface LooOptions {
  model: FoldModelOptions;
  policy: BlockPolicy;
  /** Training rows kept per source (a seeded sample): a flood must not outweigh a tool's variety. */
  maxTrainPerSource: number;
  /** The same for a benign source: its variety is what keeps false positives down. */
  maxTrainPerBenignSource: number;
  /** Share of each source's training rows kept apart for the MLP's epoch choice and operating point. */
  valShare: number;
  /**
   * When > 0, this many whole training runs are kept apart for validation instead (valShare then
   * unused): the operating point is then set on runs the fit never saw, as the judged runs are.
   */
  valRuns: number;
  /**
   * A training row of a scenario with n rows weighs n^-power (0: every row alike; 1: every
   * scenario alike); then benign and attack weigh the same in total, times benignBoost.
   */
  scenarioWeightPower: number;
  benignBoost: number;
  /** Jittered copies of the training rows (models/data/augment.ts); validation rows stay real. */
  augment: AugmentOptions;
  seed: number;
  log: (line: string) => void;
}

export interface SourceOutcome {
  fold: string;
  kind: FoldKind;
  source: string;
  run: string;
  scenario: string;
  tool: string;
  label: string;
  link: string;
  attack: boolean;
  /** Its traffic is what the fold held out (else: a benign source of the judged runs). */
  heldOut: boolean;
  /** Its judged flows, and how many of them the model called attacks. */
  flows: number;
  flagged: number;
  /** Flows the block policy was replayed over (its first flows, no gap). */
  replayed: number;
  blocked: boolean;
  /** Verdicts up to and including the blocking one. */
  flowsBeforeBlock: number | null;
  /** From the source's first packet to the verdict that blocked it. */
  msBeforeBlock: number | null;
}

export interface FoldOutcome {
  name: string;
  kind: FoldKind;
  heldOutName: string;
  trainRows: number;
  judgedRows: number;
  model: string;
  sources: SourceOutcome[];
  /** Rows (indices into the recordings) of the judged benign flows the model called attacks. */
  falsePositives: number[];
}

export function runLoo(rec: Recordings, folds: readonly Fold[], opt: LooOptions): FoldOutcome[] {
  const out: FoldOutcome[] = [];
  for (const [n, fold] of folds.entries()) {
    const t0 = performance.now();
    const held: number[] = [];
    const kept = new Map<string, number[]>();
    rec.rows.forEach((r, i) => {
      const judged = fold.runs.has(r.run);
      if (judged && (fold.judgesAll || fold.heldOut(r) || rec.data.y[i] === 0)) held.push(i);
      else if (!judged && !fold.heldOut(r)) {
        const list = kept.get(r.source);
        if (list) list.push(i);
        else kept.set(r.source, [i]);
      }
    });
    if (!fold.judgesAll && !held.some((i) => fold.heldOut(rec.rows[i]!))) throw new Error(`fold ${fold.name}: the judged runs have none of the held-out traffic`);
    // Seeded by the fold's name, not its place in the list: the same fold samples the same rows
    // whether it runs alone, in a list or on a worker.
    const foldSeed = nameSeed(fold.name);
    const { train, val } = trainingRows(rec, kept, opt, foldSeed);
    const weights = rowWeights(rec, train, opt);
    const model = fitAugmented(rec, train, val, weights, opt, foldSeed);
    const verdicts = model.predict(rec.data.x, held);
    const verdictOf = new Map(held.map((row, i) => [row, verdicts[i]!]));
    const sources = judgeSources(rec, fold, held, verdictOf, opt.policy);
    const falsePositives = held.filter((row, i) => verdicts[i] === 1 && rec.data.y[row] === 0);
    out.push({ name: fold.name, kind: fold.kind, heldOutName: fold.heldOutName, trainRows: train.length, judgedRows: held.length, model: model.summary, sources, falsePositives });
    const att = sources.filter((s) => s.attack), ben = sources.filter((s) => !s.attack && (fold.kind !== "benign" || s.heldOut));
    const sum = (l: SourceOutcome[], f: (s: SourceOutcome) => number) => l.reduce((a, s) => a + f(s), 0);
    opt.log(`fold ${n + 1}/${folds.length} ${fold.name}: train ${train.length}, judged ${held.length}; ${model.summary}; ` +
      (att.length ? `attack recall ${(sum(att, (s) => s.flagged) / Math.max(1, sum(att, (s) => s.flows))).toFixed(3)}, blocked ${att.filter((s) => s.blocked).length}/${att.length}; ` : "") +
      (ben.length ? `benign FP ${sum(ben, (s) => s.flagged)}/${sum(ben, (s) => s.flows)}, blocked ${ben.filter((s) => s.blocked).length}/${ben.length}; ` : "") +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return out;
}

function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h % 1_000_003;
}

/** The shipped model's fit: every row of every run (sampled per source as in a fold), nothing held out. */
export function fitAll(rec: Recordings, opt: LooOptions): { model: ReturnType<typeof fitFoldModel>; train: number; val: number } {
  const kept = new Map<string, number[]>();
  for (const [source, rows] of rec.bySource) kept.set(source, rows.slice());
  const { train, val } = trainingRows(rec, kept, opt, 999);
  const model = fitAugmented(rec, train, val, rowWeights(rec, train, opt), opt, 999);
  return { model, train: train.length, val: val.length };
}

/** The fold's model on its training rows and their jittered copies (each copy weighs as its original). */
function fitAugmented(rec: Recordings, train: number[], val: number[], weights: Float64Array, opt: LooOptions, fold: number) {
  if (opt.augment.copies === 0) return fitFoldModel(rec.data.x, rec.data.y, train, val, weights, opt.model);
  const aug = augmentRows(rec.data.x, train, { ...opt.augment, seed: opt.augment.seed * 1_000_003 + fold });
  const m = aug.origin.length;
  const x = new Float64Array((m + val.length) * N_FEATURES);
  x.set(aug.x);
  val.forEach((row, j) => x.set(rec.data.x.subarray(row * N_FEATURES, (row + 1) * N_FEATURES), (m + j) * N_FEATURES));
  const y = new Uint8Array(m + val.length);
  const w = new Float64Array(m);
  const pos = new Map(train.map((row, j) => [row, j]));
  for (let j = 0; j < m; j++) {
    y[j] = rec.data.y[aug.origin[j]!]!;
    w[j] = weights[pos.get(aug.origin[j]!)!]!;
  }
  val.forEach((row, j) => (y[m + j] = rec.data.y[row]!));
  const trainIdx = Array.from({ length: m }, (_, j) => j), valIdx = val.map((_, j) => m + j);
  return fitFoldModel(x, y, trainIdx, valIdx, w, opt.model);
}

/**
 * Per source: at most maxTrainPerSource rows (benign: maxTrainPerBenignSource; seeded); for the
 * MLP valShare of them for validation, or with valRuns every row of that many whole runs.
 */
export function trainingRows(rec: Recordings, kept: Map<string, number[]>, opt: LooOptions, fold: number): { train: number[]; val: number[] } {
  const rand = rng(opt.seed * 1_000_003 + fold);
  const sources = [...kept.keys()].sort();
  const mlp = opt.model.kind === "mlp";
  const runs = [...new Set(sources.map((s) => rec.rows[kept.get(s)![0]!]!.run))].sort();
  if (mlp && opt.valRuns > 0 && opt.valRuns >= runs.length) throw new Error(`leave-one-out: ${opt.valRuns} validation run(s) leave no run to train on (${runs.length} in the fold)`);
  const valRuns = new Set(mlp && opt.valRuns > 0 ? shuffle(runs.slice(), rand).slice(0, opt.valRuns) : []);
  const train: number[] = [], val: number[] = [];
  for (const source of sources) {
    const all = kept.get(source)!;
    const rows = shuffle(all.slice(), rand).slice(0, rec.data.y[all[0]!] ? opt.maxTrainPerSource : opt.maxTrainPerBenignSource);
    const nVal = !mlp ? 0 : valRuns.size ? (valRuns.has(rec.rows[all[0]!]!.run) ? rows.length : 0) : Math.floor(rows.length * opt.valShare);
    val.push(...rows.slice(0, nVal));
    train.push(...rows.slice(nVal));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

function rowWeights(rec: Recordings, train: readonly number[], opt: LooOptions): Float64Array {
  const count = new Map<string, number>();
  for (const i of train) count.set(rec.rows[i]!.scenario, (count.get(rec.rows[i]!.scenario) ?? 0) + 1);
  const w = Float64Array.from(train, (i) => count.get(rec.rows[i]!.scenario)! ** -opt.scenarioWeightPower);
  let benign = 0, attack = 0;
  train.forEach((row, j) => (rec.data.y[row] ? (attack += w[j]!) : (benign += w[j]!)));
  if (benign === 0 || attack === 0) throw new Error("leave-one-out: a fold's training rows must hold benign and attack flows");
  // Mean weight 1 over the training rows, the two classes equal in total (times the boost).
  const total = train.length;
  train.forEach((row, j) => (w[j] = rec.data.y[row] ? (w[j]! * total) / (2 * attack) : (w[j]! * total * opt.benignBoost) / (2 * benign)));
  return w;
}

function judgeSources(rec: Recordings, fold: Fold, held: readonly number[], verdictOf: Map<number, number>, policy: BlockPolicy): SourceOutcome[] {
  const bySource = new Map<string, number[]>();
  for (const i of held) {
    const s = rec.rows[i]!.source;
    const list = bySource.get(s);
    if (list) list.push(i);
    else bySource.set(s, [i]);
  }
  const out: SourceOutcome[] = [];
  for (const [source, rows] of [...bySource].sort((a, b) => a[0].localeCompare(b[0]))) {
    const r0 = rec.rows[rows[0]!]!;
    const prefix = contiguousPrefix(rec, source).filter((i) => verdictOf.has(i));
    const sim = simulateBlocks(prefix.map((i) => ({ source, endUs: rec.rows[i]!.endedUs, attack: verdictOf.get(i) === 1 })), policy).get(source);
    const blockedAt = sim?.blockedAtUs ?? null;
    const firstUs = Math.min(...rows.map((i) => rec.rows[i]!.firstUs));
    out.push({
      fold: fold.name, kind: fold.kind, source, run: r0.run, scenario: r0.scenario, tool: r0.tool, label: r0.label, link: r0.link,
      attack: rec.data.y[rows[0]!] === 1,
      heldOut: !!fold.judgesAll || fold.heldOut(r0),
      flows: rows.length,
      flagged: rows.reduce((a, i) => a + verdictOf.get(i)!, 0),
      replayed: prefix.length,
      blocked: blockedAt !== null,
      flowsBeforeBlock: blockedAt !== null ? sim!.flowsBefore : null,
      msBeforeBlock: blockedAt !== null ? Math.max(0, (blockedAt - firstUs) / 1000) : null,
    });
  }
  return out;
}
