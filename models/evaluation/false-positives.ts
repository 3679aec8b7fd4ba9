// The benign flows leave-one-out models called attacks, as CSV for a closer look: which fold's
// model, which flow (run, scenario, its place among its source's flows, how long after the
// source's first flow it began) and every feature it was judged on.
import { FEATURES, N_FEATURES } from "../data/features.ts";
import type { FoldOutcome } from "./loo.ts";
import type { Recordings } from "./recordings.ts";

export function falsePositivesCsv(rec: Recordings, outcomes: readonly FoldOutcome[]): string {
  const sourceStart = new Map<string, number>();
  for (const [source, rows] of rec.bySource) sourceStart.set(source, Math.min(...rows.map((i) => rec.rows[i]!.firstUs)));
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [["Fold", "Run", "Scenario", "Seq", "Since Source Start ms", ...FEATURES.map((f) => f.name)].map(quote).join(",")];
  for (const o of outcomes) {
    for (const row of o.falsePositives) {
      const r = rec.rows[row]!;
      const features = Array.from(rec.data.x.subarray(row * N_FEATURES, (row + 1) * N_FEATURES), String);
      lines.push([o.name, r.run, r.scenario, String(r.seq), ((r.firstUs - sourceStart.get(r.source)!) / 1000).toFixed(1), ...features].map(quote).join(","));
    }
  }
  return lines.join("\n") + "\n";
}
