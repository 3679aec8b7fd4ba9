// Testbed recordings as the leave-one-out evaluation needs them: every row's run, scenario, tool,
// link band and source, and each source's flows in arrival order. A source is one scenario host of
// one run (its address is reused by the next run, so the run is part of its name).
import { loadCsv, DataError, type Dataset } from "../data/csv.ts";

export interface RowInfo {
  run: string;
  scenario: string;
  tool: string;
  label: string;
  link: string;
  /** `${run}/${scenario}`: the host that sent the flow in that run. */
  source: string;
  /** Place among the source's records in arrival order, before the recording sampled them. */
  seq: number;
  firstUs: number;
  endedUs: number;
}

export interface Recordings {
  data: Dataset;
  rows: RowInfo[];
  /** Row indices per source, in Seq order. */
  bySource: Map<string, number[]>;
}

const REQUIRED = ["Run", "Scenario", "Tool", "Seq", "Link", "First Seen us", "Ended us"] as const;

export function loadRecordings(path: string): Recordings {
  const data = loadCsv(path);
  const missing = REQUIRED.filter((c) => !data.meta.has(c));
  if (missing.length) {
    throw new DataError(`${path}: not a testbed recording with sources and tools: no ${missing.join(", ")} column(s) (record one with \`xids testbed --record FILE\`)`);
  }
  const col = (c: (typeof REQUIRED)[number]) => data.meta.get(c)!;
  const [run, scenario, tool, seq, link, first, ended] = REQUIRED.map(col) as string[][];
  const rows: RowInfo[] = new Array(data.n);
  const bySource = new Map<string, number[]>();
  for (let i = 0; i < data.n; i++) {
    const num = (v: string, what: string) => {
      const n = Number(v);
      if (v === "" || !Number.isFinite(n)) throw new DataError(`${path}: row ${i + 1}: ${what} is "${v}", not a number`);
      return n;
    };
    const r: RowInfo = {
      run: run![i]!, scenario: scenario![i]!, tool: tool![i]!, label: data.label[i]!, link: link![i]!,
      source: `${run![i]}/${scenario![i]}`, seq: num(seq![i]!, "Seq"), firstUs: num(first![i]!, "First Seen us"), endedUs: num(ended![i]!, "Ended us"),
    };
    if (!r.run || !r.scenario || !r.tool) throw new DataError(`${path}: row ${i + 1}: empty Run, Scenario or Tool`);
    rows[i] = r;
    const list = bySource.get(r.source);
    if (list) list.push(i);
    else bySource.set(r.source, [i]);
  }
  for (const list of bySource.values()) list.sort((a, b) => rows[a]!.seq - rows[b]!.seq);
  return { data, rows, bySource };
}

/**
 * The rows of a source a block policy can be replayed over exactly: its first flows with no gap
 * in Seq (a recording keeps a flood's first flows whole and samples the rest).
 */
export function contiguousPrefix(rec: Recordings, source: string): number[] {
  const list = rec.bySource.get(source) ?? [];
  const out: number[] = [];
  for (const i of list) {
    if (rec.rows[i]!.seq !== out.length) break;
    out.push(i);
  }
  return out;
}

/** How many first flows of each source `xids testbed --record` keeps whole (test/testbed/dataset.ts capPerScenario). */
export const RECORDED_PREFIX = 500;

/**
 * Sources whose gap-free prefix stops before their first RECORDED_PREFIX flows (or all of them,
 * if fewer): a recording xids made has no such gap, so a row was taken out afterwards and the
 * block policy would be replayed over fewer flows than the source sent. Said, not skipped.
 */
export function shortPrefixes(rec: Recordings): { source: string; prefix: number; rows: number }[] {
  const out: { source: string; prefix: number; rows: number }[] = [];
  for (const [source, list] of rec.bySource) {
    const prefix = contiguousPrefix(rec, source).length;
    if (prefix < Math.min(list.length, RECORDED_PREFIX)) out.push({ source, prefix, rows: list.length });
  }
  return out;
}
