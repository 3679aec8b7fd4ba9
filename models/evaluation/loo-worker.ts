// One worker of `xids loo --jobs N`: loads the recordings once, rebuilds the folds by name (a
// fold's predicates are closures, so names cross the thread boundary, not folds), then runs one
// fold per request and posts its outcome back. The parent hands out the next fold to whichever
// worker is free, so a worker that runs slower (the JIT does not treat every thread alike) takes
// fewer folds instead of holding up the run. Log lines go to the parent as they come.
import { looFolds, type Fold, type FoldKind } from "./folds.ts";
import { runLoo, type LooOptions } from "./loo.ts";
import { loadRecordings, type Recordings } from "./recordings.ts";

/** The first message: what to load. Then one { fold } message per fold to run. */
export interface LooJob {
  data: string;
  kinds: FoldKind[];
  groups: number;
  options: Omit<LooOptions, "log">;
}
export type LooRequest = { job: LooJob } | { fold: string; place: string };

export type LooWorkerMessage = { ready: true } | { log: string } | { done: ReturnType<typeof runLoo>[number] } | { error: string };

declare const self: Worker;

let state: { rec: Recordings; folds: Map<string, Fold>; options: Omit<LooOptions, "log"> } | null = null;

self.onmessage = (event: MessageEvent<LooRequest>) => {
  try {
    const m = event.data;
    if ("job" in m) {
      const rec = loadRecordings(m.job.data);
      state = { rec, folds: new Map(looFolds(rec.rows, m.job.kinds, m.job.groups).map((f) => [f.name, f])), options: m.job.options };
      self.postMessage({ ready: true } satisfies LooWorkerMessage);
      return;
    }
    if (!state) throw new Error("a fold was requested before the recordings were loaded");
    const fold = state.folds.get(m.fold);
    if (!fold) throw new Error(`no fold named ${m.fold}`);
    const log = (line: string) => self.postMessage({ log: line.replace(/^fold 1\/1 /, `fold ${m.place} `) } satisfies LooWorkerMessage);
    const [done] = runLoo(state.rec, [fold], { ...state.options, log });
    self.postMessage({ done: done! } satisfies LooWorkerMessage);
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies LooWorkerMessage);
  }
};
