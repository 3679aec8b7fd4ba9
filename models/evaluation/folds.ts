// Leave-one-out folds over testbed recordings. Each fold holds out traffic a model must meet
// unseen: one attack tool of one class ("tool": every scenario of that class made by that tool),
// one kind of benign traffic ("benign": one benign scenario), or one link-condition band ("link":
// every host behind that band), and, crossed with that, a group of runs: the model trains on the
// other runs without the held-out traffic and is judged on the held-out runs, on the held-out
// traffic and on every benign flow there (so false positives, too, are counted on runs it never
// saw). "runs" holds out nothing but the runs: the in-distribution figure beside the others.
import { isBenign } from "../data/csv.ts";
import type { RowInfo } from "./recordings.ts";

export type FoldKind = "runs" | "tool" | "benign" | "link";
export const FOLD_KINDS: readonly FoldKind[] = ["runs", "tool", "benign", "link"];

export interface Fold {
  kind: FoldKind;
  /** What is held out: "PortScan/nmap", "BENIGN/busy-nat-client", "link/wan-100ms". */
  heldOutName: string;
  /** That and the run group: "PortScan/nmap@1". */
  name: string;
  /** Traffic no run trains on. */
  heldOut: (r: RowInfo) => boolean;
  /** Judge every flow of the judged runs ("runs"), not only the held-out and the benign ones. */
  judgesAll?: boolean;
  /** The runs judged; the model trains on none of them. */
  runs: ReadonlySet<string>;
}

/** Runs in sorted order dealt round-robin into `groups` groups (at least 2: train on some, judge on others). */
export function runGroups(rows: readonly RowInfo[], groups: number): string[][] {
  const runs = [...new Set(rows.map((r) => r.run))].sort();
  if (!Number.isInteger(groups) || groups < 2 || groups > runs.length) {
    throw new RangeError(`run groups: need 2..${runs.length} (the recordings hold ${runs.length} run(s): ${runs.join(", ")}), got ${groups}`);
  }
  const out: string[][] = Array.from({ length: groups }, () => []);
  runs.forEach((r, i) => out[i % groups]!.push(r));
  return out;
}

export function looFolds(rows: readonly RowInfo[], kinds: readonly FoldKind[], groups: number): Fold[] {
  const heldOut = heldOutTraffic(rows, kinds);
  const runSets = runGroups(rows, groups);
  return heldOut.flatMap((h) => runSets.map((runs, g) => ({ ...h, heldOutName: h.name, name: `${h.name}@${g + 1}`, runs: new Set(runs) })));
}

type HeldOut = Pick<Fold, "kind" | "heldOut" | "judgesAll"> & { name: string };

function heldOutTraffic(rows: readonly RowInfo[], kinds: readonly FoldKind[]): HeldOut[] {
  const folds: HeldOut[] = [];
  const distinct = (key: (r: RowInfo) => string | null) => [...new Set(rows.map(key).filter((k): k is string => k !== null))].sort();
  if (kinds.includes("runs")) folds.push({ kind: "runs", name: "runs", heldOut: () => false, judgesAll: true });
  if (kinds.includes("tool")) {
    for (const key of distinct((r) => (isBenign(r.label) ? null : `${r.label}/${r.tool}`))) {
      const [label, tool] = key.split("/") as [string, string];
      folds.push({ kind: "tool", name: key, heldOut: (r) => r.label === label && r.tool === tool });
    }
  }
  if (kinds.includes("benign")) {
    for (const scenario of distinct((r) => (isBenign(r.label) ? r.scenario : null))) {
      folds.push({ kind: "benign", name: `BENIGN/${scenario}`, heldOut: (r) => isBenign(r.label) && r.scenario === scenario });
    }
  }
  if (kinds.includes("link")) {
    for (const band of distinct((r) => r.link)) folds.push({ kind: "link", name: `link/${band}`, heldOut: (r) => r.link === band });
  }
  return folds;
}
