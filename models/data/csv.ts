// Loader for CIC-IDS-2017-style CSVs (classic and improved spellings) and the data sets xids
// records. It maps columns to the kernel's features by name, binarises labels (BENIGN = 0,
// anything else = 1) and repairs values the kernel can never produce, counting every repair so
// nothing is silently changed. The flow's own 22 features are required; the source-context ones
// (22..31) come all together or not at all, and a data set without them says so (`features`).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { basename, join } from "node:path";
import { FEATURES, N_FEATURES, N_FLOW_FEATURES, OPTIONAL_GROUPS, normHeader, featureByName } from "./features.ts";

export interface LoadReport {
  files: { file: string; rows: number }[];
  rows: number;
  /** Rows skipped because they were malformed (wrong field count, missing label). */
  skipped: number;
  /** Per feature name: Infinity/NaN/unparsable values replaced by 0 (the kernel's value, e.g. rate with zero IAT). */
  nonFinite: Record<string, number>;
  /** Per feature name: negative values replaced by 0 (e.g. Init Win -1 for non-TCP, negative header length). */
  negative: Record<string, number>;
  /** Rows per original class label. */
  classes: Record<string, number>;
  benign: number;
  attack: number;
}

export interface Dataset {
  /** Row-major n x N_FEATURES in kernel feature order, as read from the CSV (after repairs);
   *  absent features are 0 and not in `features`. */
  x: Float64Array;
  /** The feature indices the data really has (all N_FEATURES, or the 22 flow features). */
  features: number[];
  /** 0 benign, 1 attack. */
  y: Uint8Array;
  /** Original class label per row, for stratification and per-class reporting. */
  label: string[];
  /** Per-row values of the identifying columns a recording carries (META_COLUMNS), by name. */
  meta: Map<string, string[]>;
  n: number;
  report: LoadReport;
}

export class DataError extends Error {}

/** Columns kept per row when a file has them: what a testbed recording says about each flow. */
export const META_COLUMNS = ["Scenario", "Tool", "Seq", "Src IP", "Run", "Link", "Family", "First Seen us", "Ended us"] as const;

/** Split one CSV line; quote-aware only when the line has quotes (the common case stays fast). */
function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ",") { out.push(cur); cur = ""; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

/** The CSV files a path names: the file itself, or every *.csv in a folder (sorted, so order is stable). */
export function csvFiles(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new DataError(`data path not found: ${path}`);
  if (st.isFile()) return [path];
  const files = readdirSync(path).filter((f) => /\.csv(\.gz)?$/i.test(f)).sort().map((f) => join(path, f));
  if (files.length === 0) throw new DataError(`no .csv or .csv.gz files in ${path}`);
  return files;
}

export function isBenign(label: string): boolean {
  return label.trim().toUpperCase() === "BENIGN";
}

/** Load one CSV file or a folder of them into one data set. */
export function loadCsv(path: string): Dataset {
  const files = csvFiles(path);
  const xs: number[] = [];
  const y: number[] = [];
  const label: string[] = [];
  const report: LoadReport = { files: [], rows: 0, skipped: 0, nonFinite: {}, negative: {}, classes: {}, benign: 0, attack: 0 };
  const groupsSeen = new Map<string, boolean>(); // optional feature group -> the files so far have it
  const meta = new Map<string, string[]>();
  for (const file of files) {
    // Recordings are committed gzipped (a tenth of the size); the bytes are the same CSV.
    const raw = readFileSync(file);
    const text = (file.toLowerCase().endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
    const lines = text.split(/\r?\n/);
    const header = splitLine(lines[0] ?? "");
    const col = new Array<number>(N_FEATURES).fill(-1);
    header.forEach((h, i) => {
      const f = featureByName(h);
      // First match wins: classic files carry "Fwd Header Length" twice.
      if (f && col[f.index] === -1) col[f.index] = i;
    });
    const missing = FEATURES.filter((f) => f.index < N_FLOW_FEATURES && col[f.index] === -1).map((f) => f.name);
    if (missing.length) throw new DataError(`${basename(file)}: missing feature column(s): ${missing.join(", ")}`);
    for (const group of OPTIONAL_GROUPS) {
      const present = group.indices.filter((i) => col[i] !== -1).length;
      if (present !== 0 && present !== group.indices.length) {
        const absent = group.indices.filter((i) => col[i] === -1).map((i) => FEATURES[i]!.name);
        throw new DataError(`${basename(file)}: has some ${group.name} columns but not: ${absent.join(", ")} (all or none)`);
      }
      const has = present > 0;
      const before = groupsSeen.get(group.name);
      if (before !== undefined && before !== has) throw new DataError(`${basename(file)}: ${has ? "has" : "lacks"} the ${group.name} columns, unlike the files before it`);
      groupsSeen.set(group.name, has);
    }
    const labelCol = header.findIndex((h) => normHeader(h) === "label");
    const metaCols = META_COLUMNS.map((m) => [m, header.findIndex((h) => normHeader(h) === normHeader(m))] as const);
    // A column present in some files only would misalign rows: all files carry it, or none.
    for (const [m, i] of metaCols) {
      if (i !== -1 && !meta.has(m) && report.rows > 0) throw new DataError(`${basename(file)}: has the ${m} column, unlike the files before it`);
      if (i === -1 && meta.has(m)) throw new DataError(`${basename(file)}: lacks the ${m} column the files before it have`);
      if (i !== -1 && !meta.has(m)) meta.set(m, []);
    }
    if (labelCol === -1) throw new DataError(`${basename(file)}: no Label column`);
    let rows = 0;
    for (let li = 1; li < lines.length; li++) {
      const line = lines[li]!;
      if (line.trim() === "") continue;
      const cells = splitLine(line);
      if (cells.length !== header.length || !cells[labelCol]?.trim()) { report.skipped++; continue; }
      for (let j = 0; j < N_FEATURES; j++) {
        if (col[j] === -1) {
          xs.push(0); // absent in this data set (not in `features`)
          continue;
        }
        const raw = cells[col[j]!]!.trim();
        let v = Number(raw);
        const name = FEATURES[j]!.name;
        if (!Number.isFinite(v) || raw === "") { report.nonFinite[name] = (report.nonFinite[name] ?? 0) + 1; v = 0; }
        else if (v < 0) { report.negative[name] = (report.negative[name] ?? 0) + 1; v = 0; }
        xs.push(v);
      }
      const lab = cells[labelCol]!.trim();
      label.push(lab);
      for (const [m, i] of metaCols) if (i !== -1) meta.get(m)!.push(cells[i]!.trim());
      const b = isBenign(lab) ? 0 : 1;
      y.push(b);
      if (b) report.attack++; else report.benign++;
      report.classes[lab] = (report.classes[lab] ?? 0) + 1;
      rows++;
    }
    report.files.push({ file: basename(file), rows });
    report.rows += rows;
  }
  if (report.rows === 0) throw new DataError(`no data rows in ${path}`);
  const absentGroups = OPTIONAL_GROUPS.filter((g) => !groupsSeen.get(g.name)).flatMap((g) => g.indices);
  const features = FEATURES.filter((f) => f.index < N_FLOW_FEATURES || !absentGroups.includes(f.index)).map((f) => f.index);
  return { x: Float64Array.from(xs), features, y: Uint8Array.from(y), label, meta, n: report.rows, report };
}

/** The kernel delivers integers (floor of means, isqrt of variances): the inputs models are judged on. */
export function floorRows(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.floor(x[i]!);
  return out;
}

/** Take rows `idx` and columns `cols` (feature indices) as a dense row-major matrix. */
export function selectRows(x: Float64Array, width: number, idx: ArrayLike<number>, cols: readonly number[]): Float64Array {
  const k = cols.length;
  const out = new Float64Array(idx.length * k);
  for (let r = 0; r < idx.length; r++) {
    const base = idx[r]! * width;
    for (let c = 0; c < k; c++) out[r * k + c] = x[base + cols[c]!]!;
  }
  return out;
}

export function summarizeReport(r: LoadReport): string {
  const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(", ") || "none";
  return [
    `rows ${r.rows} (benign ${r.benign}, attack ${r.attack}, benign share ${(r.benign / r.rows * 100).toFixed(1)}%) from ${r.files.length} file(s); skipped ${r.skipped} malformed`,
    `non-finite -> 0: ${fmt(r.nonFinite)}`,
    `negative -> 0: ${fmt(r.negative)}`,
  ].join("\n");
}
