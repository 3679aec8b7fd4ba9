// One worker of `xids loo --jobs N`: loads the recordings itself, rebuilds the folds it was given
// by name (a fold's predicates are closures, so names cross the thread boundary, not folds) and
// posts back their outcomes. Log lines go to the parent as they come.
import { looFolds, type FoldKind } from "./folds.ts";
import { runLoo, type LooOptions } from "./loo.ts";
import { loadRecordings } from "./recordings.ts";

export interface LooJob {
  data: string;
  kinds: FoldKind[];
  groups: number;
  folds: string[];
  options: Omit<LooOptions, "log">;
}

export type LooWorkerMessage = { log: string } | { done: ReturnType<typeof runLoo> } | { error: string };

declare const self: Worker;

self.onmessage = (event: MessageEvent<LooJob>) => {
  try {
    const job = event.data;
    const rec = loadRecordings(job.data);
    const folds = looFolds(rec.rows, job.kinds, job.groups).filter((f) => job.folds.includes(f.name));
    const done = runLoo(rec, folds, { ...job.options, log: (line) => self.postMessage({ log: line } satisfies LooWorkerMessage) });
    self.postMessage({ done } satisfies LooWorkerMessage);
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies LooWorkerMessage);
  }
};
