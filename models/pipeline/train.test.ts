// End to end through the CLI verbs on a small generated data set: train each kind, load the
// artifact back, evaluate, and check the last line of `eval` is the metrics JSON.
import { afterAll, expect, spyOn, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command as trainCmd } from "../commands/train.ts";
import { builtins } from "../../plugins/index.ts";
import { command as evalCmd } from "../../plugins/models/kernel/eval-command.ts";
import { loadArtifact } from "../artifact/load.ts";
import { artifactBaseline } from "../explain/baseline.ts";
import { FEATURES } from "../data/features.ts";
import { rng } from "../data/split.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Benign: port 443, long flows; attacks: port 80 floods with tiny payloads. Separable on purpose.
const rand = rng(3);
const lines = [[...FEATURES.map((f) => f.name), "Label"].join(",")];
for (let i = 0; i < 400; i++) {
  const attack = i % 3 !== 0;
  const v = FEATURES.map((f) => {
    if (f.index === 0) return attack ? 80 : 443;
    if (f.index === 1) return 6;
    if (f.index === 3) return Math.floor((attack ? 10 : 5000) * (0.5 + rand()));
    if (f.index === 17) return attack && i % 7 === 0 ? "Infinity" : Math.floor(rand() * 100);
    if (f.index === 18) return i % 11 === 0 ? -1 : 29200;
    return Math.floor(rand() * 50);
  });
  lines.push([...v, attack ? "DoS Hulk" : "BENIGN"].join(","));
}
const csv = join(dir, "flows.csv");
writeFileSync(csv, lines.join("\n") + "\n");

async function run(cmd: typeof trainCmd, args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const spy = spyOn(console, "log").mockImplementation((...a: unknown[]) => { out.push(a.join(" ")); });
  const err = spyOn(console, "error").mockImplementation(() => {});
  try {
    return { code: await cmd.run(args, builtins), out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

test("train dt, mlp and xgb, then eval each: artifacts load and the last line is the metrics JSON", async () => {
  for (const [kind, extra] of [["dt", []], ["mlp", ["--epochs", "15", "--k", "3", "--lr", "0.01"]], ["xgb", ["--rounds", "10"]]] as const) {
    const out = join(dir, kind);
    const t = await run(trainCmd, ["--model", kind, "--data", csv, "--out", out, ...extra]);
    expect(t.code).toBe(0);
    expect(t.out.join("\n")).toContain("non-finite -> 0: Fwd Packets/s");
    const model = loadArtifact(out);
    expect(model.features[0]).toBe(0); // Dst Port separates the classes, so it ranks first
    expect(readFileSync(join(out, "REPORT.md"), "utf8")).toContain("top-K curve");
    const e = await run(evalCmd, ["--model", out, "--data", csv]);
    expect(e.code).toBe(0);
    const m = JSON.parse(e.out[e.out.length - 1]!);
    expect(Object.keys(m).slice(0, 8)).toEqual(["n", "accuracy", "precision", "recall", "f1", "fpr", "mcc", "pr_auc"]);
    expect(m.n).toBe(400);
    expect(m.f1).toBeGreaterThan(0.95);
    if (kind === "mlp") expect(typeof m.float_vs_int32_disagreements).toBe("number");
    // An int32 MLP comes with the benign baseline `xids explain` measures against: the benign
    // rows' medians (their port is 443, their protocol 6), over the 134 benign rows of 400.
    if (kind === "mlp") {
      const b = artifactBaseline(out);
      expect([b.rows, b.values[0], b.values[1]]).toEqual([134, 443, 6]);
    }
  }
});

test("training is deterministic", async () => {
  const a = join(dir, "det-a"), b = join(dir, "det-b");
  await run(trainCmd, ["--model", "mlp", "--data", csv, "--out", a, "--epochs", "3", "--k", "2"]);
  await run(trainCmd, ["--model", "mlp", "--data", csv, "--out", b, "--epochs", "3", "--k", "2"]);
  expect(readFileSync(join(a, "params.json"), "utf8")).toBe(readFileSync(join(b, "params.json"), "utf8"));
});

test("bad usage is reported", async () => {
  await expect(trainCmd.run(["--model", "svm", "--data", csv, "--out", dir], builtins)).rejects.toThrow("--model must be mlp, dt or xgb");
  await expect(evalCmd.run(["--model", join(dir, "nope"), "--data", csv], builtins)).rejects.toThrow("folder does not exist");
});

test("an MLP on a log scale: the manifest marks its log inputs, load and eval honour them, the kernel twin agrees", async () => {
  const out = join(dir, "mlp-log2");
  const t = await run(trainCmd, ["--model", "mlp", "--data", csv, "--out", out, "--epochs", "15", "--features", "0,3,17", "--log2", "counts", "--lr", "0.01"]);
  expect(t.code).toBe(0);
  const model = loadArtifact(out);
  if (model.kind !== "mlp-int32") throw new Error("expected an MLP");
  expect(model.manifest.scaler.log2).toEqual([false, true, true]); // Dst Port stays linear
  expect(model.params.log2).toEqual([false, true, true]);
  expect(model.float.log2).toEqual([false, true, true]);
  expect(readFileSync(join(out, "REPORT.md"), "utf8")).toContain("on a log scale (log2q8, INT32_SPEC.md step 1b): Total Length of Fwd Packet, Fwd Packets/s");
  const e = await run(evalCmd, ["--model", out, "--data", csv]);
  const m = JSON.parse(e.out[e.out.length - 1]!);
  expect(m.f1).toBeGreaterThan(0.95);
  expect(m.float_vs_int32_disagreements).toBeLessThan(5);
});
