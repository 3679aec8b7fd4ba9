import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError, floorRows, loadCsv } from "./csv.ts";
import { FEATURES, N_FEATURES, N_FLOW_FEATURES } from "./features.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, header: string[], rows: (string | number)[][]): string {
  const p = join(dir, name);
  writeFileSync(p, [header.join(","), ...rows.map((r) => r.join(","))].join("\n") + "\n");
  return p;
}

// CIC-style files carry the flow's 22 features only; rows are N_FEATURES wide once loaded.
const FLOW = FEATURES.slice(0, N_FLOW_FEATURES);
const improved = FLOW.map((f) => f.name);
const row = (over: Record<number, string | number>, label: string) => [...FLOW.map((f) => over[f.index] ?? f.index + 1), label];

test("improved spelling: columns mapped by name, labels binarised, extra columns ignored", () => {
  const header = ["id", ...improved.slice().reverse(), "Label", "Attempted Category"];
  const p = write("improved.csv", header, [
    ["1", ...row({}, "BENIGN").slice(0, 22).reverse(), "BENIGN", -1],
    ["2", ...row({ 0: 80 }, "DoS Hulk").slice(0, 22).reverse(), "DoS Hulk", -1],
  ]);
  const d = loadCsv(p);
  expect(d.n).toBe(2);
  expect(Array.from(d.y)).toEqual([0, 1]);
  expect(d.x[0]).toBe(1); // Dst Port of row 0
  expect(d.x[N_FEATURES]).toBe(80);
  expect(d.x[21]).toBe(22); // Fwd Segment Size Avg
  expect(d.x[22]).toBe(0); // no source context in this file
  expect(d.features).toEqual(Array.from({ length: N_FLOW_FEATURES }, (_, i) => i));
  expect(d.report.classes).toEqual({ BENIGN: 1, "DoS Hulk": 1 });
});

test("classic spelling with leading spaces and a duplicated Fwd Header Length: first column wins", () => {
  const classic = FLOW.map((f) => ` ${f.aliases[0] ?? f.name}`);
  const fhl = classic.indexOf(" Fwd Header Length.1");
  classic[fhl] = " Fwd Header Length";
  const header = [...classic, " Fwd Header Length", " Label"];
  const p = write("classic.csv", header, [[...row({ 16: 40 }, "x").slice(0, 22), 999, "PortScan"]]);
  const d = loadCsv(p);
  expect(d.x[16]).toBe(40);
  expect(d.y[0]).toBe(1);
});

test("Infinity, NaN and negative values become 0 and are counted per feature", () => {
  const p = write("dirty.csv", [...improved, "Label"], [
    row({ 17: "Infinity", 18: -1, 16: -20 }, "BENIGN"),
    row({ 17: "NaN", 18: -1 }, "Portscan"),
  ]);
  const d = loadCsv(p);
  expect(d.x[17]).toBe(0);
  expect(d.x[18]).toBe(0);
  expect(d.x[16]).toBe(0);
  expect(d.x[N_FEATURES + 17]).toBe(0);
  expect(d.report.nonFinite).toEqual({ "Fwd Packets/s": 2 });
  expect(d.report.negative).toEqual({ "FWD Init Win Bytes": 2, "Fwd Header Length": 1 });
});

test("source-context columns (recorded by xids) load as features 22..31; some of them only is an error", () => {
  const all = FEATURES.map((f) => f.name);
  const p = write("ctx.csv", [...all, "Label"], [[...FEATURES.map((f) => f.index * 10), "BENIGN"]]);
  const d = loadCsv(p);
  expect(d.features).toEqual(FEATURES.map((f) => f.index));
  expect(Array.from(d.x.subarray(22, 32))).toEqual([220, 230, 240, 250, 260, 270, 280, 290, 300, 310]);
  const part = write("ctx-part.csv", [...all.slice(0, 25), "Label"], [[...FEATURES.slice(0, 25).map((f) => f.index), "BENIGN"]]);
  expect(() => loadCsv(part)).toThrow(/has some source-context columns but not: Src Dst Addrs 10s, Src Same Port Flows 10s, .*\(all or none\)/);
});

test("first-payload columns (xids.features.v3) are a group of their own: a recording without them loads with 0..31", () => {
  const all = FEATURES.map((f) => f.index < 32 ? f.name : "").filter((n) => n);
  const p = write("v2.csv", [...all, "Label"], [[...FEATURES.filter((f) => f.index < 32).map((f) => f.index), "BENIGN"]]);
  const d = loadCsv(p);
  expect(d.features).toEqual(FEATURES.filter((f) => f.index < 32).map((f) => f.index));
  expect(Array.from(d.x.subarray(32, 37))).toEqual([0, 0, 0, 0, 0]);
  const names = FEATURES.map((f) => f.name);
  const part = write("payload-part.csv", [...names.slice(0, 33), "Label"], [[...FEATURES.slice(0, 33).map((f) => f.index), "BENIGN"]]);
  expect(() => loadCsv(part)).toThrow(/has some first-payload columns but not: Fwd First Line Meta, Fwd First Payload Encoded Meta \(all or none\)/);
});

test("acknowledged columns (xids.features.v4) are a group of their own: a v3 recording loads with 0..34", () => {
  const v3 = FEATURES.filter((f) => f.index < 35);
  const d = loadCsv(write("v3.csv", [...v3.map((f) => f.name), "Label"], [[...v3.map((f) => f.index), "BENIGN"]]));
  expect(d.features).toEqual(v3.map((f) => f.index));
  expect(Array.from(d.x.subarray(32, 37))).toEqual([32, 33, 34, 0, 0]);
  const part = write("acked-part.csv", [...FEATURES.slice(0, 36).map((f) => f.name), "Label"], [[...FEATURES.slice(0, 36).map((f) => f.index), "BENIGN"]]);
  expect(() => loadCsv(part)).toThrow(/has some acknowledged columns but not: Src Acked per Flow 10s \(all or none\)/);
});

test("malformed rows are skipped and counted; missing columns are an error naming them", () => {
  const p = write("short.csv", [...improved, "Label"], [row({}, "BENIGN"), ["1", "2"]]);
  const d = loadCsv(p);
  expect(d.n).toBe(1);
  expect(d.report.skipped).toBe(1);
  const q = write("missing.csv", [...improved.filter((n) => n !== "Fwd IAT Min"), "Label"], [row({}, "BENIGN").filter((_, i) => i !== 12)]);
  expect(() => loadCsv(q)).toThrow(new DataError("missing.csv: missing feature column(s): Fwd IAT Min"));
  expect(() => loadCsv(join(dir, "nope.csv"))).toThrow("data path not found");
});

test("a folder loads every csv in name order", () => {
  const sub = join(dir, "folder");
  require("node:fs").mkdirSync(sub);
  writeFileSync(join(sub, "b.csv"), [[...improved, "Label"].join(","), row({}, "DDoS").join(",")].join("\n"));
  writeFileSync(join(sub, "a.csv"), [[...improved, "Label"].join(","), row({}, "BENIGN").join(",")].join("\n"));
  const d = loadCsv(sub);
  expect(d.report.files.map((f) => f.file)).toEqual(["a.csv", "b.csv"]);
  expect(Array.from(d.y)).toEqual([0, 1]);
});

test("floorRows gives the kernel's integer view", () => {
  expect(Array.from(floorRows(Float64Array.from([1.9, 2, 0.2])))).toEqual([1, 2, 0]);
});
