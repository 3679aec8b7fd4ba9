// Classifies feature vectors with the in-kernel classifier under BPF_PROG_TEST_RUN: the same
// stages that run on live flows, fed one struct xids_eval_io per run.
import type { Collection } from "../../../native/index.ts";
import { CLASSIFIER_PROGRAMS, EVAL_ACTIVE_SLOT, EvalIo, NUM_FEATURES, Verdict } from "./abi.ts";

export interface KernelEvalResult {
  attack: boolean;
  /** True when a model produced the verdict (false: no model in the slot). */
  classified: boolean;
  score: number;
  logits: [number, number];
  slot: number;
  version: number;
}

export function evalFeatures(coll: Collection, rows: bigint[][], slot: number = EVAL_ACTIVE_SLOT): KernelEvalResult[] {
  const prog = coll.program(CLASSIFIER_PROGRAMS.eval);
  const io = EvalIo.zero();
  io.slot = slot;
  return rows.map((row, i) => {
    if (row.length !== NUM_FEATURES) throw new RangeError(`row ${i} has ${row.length} features, the kernel takes ${NUM_FEATURES}`);
    io.features = row;
    const res = prog.testRun({ data: EvalIo.encode(io) });
    if (res.retval !== 2) throw new Error(`row ${i}: classifier evaluation aborted (XDP action ${res.retval})`);
    const out = EvalIo.decode(res.data);
    return {
      attack: out.verdict === Verdict.ATTACK,
      classified: out.verdict !== Verdict.NONE,
      score: out.score,
      logits: [out.logit0, out.logit1],
      slot: out.slot_used,
      version: out.version,
    };
  });
}
