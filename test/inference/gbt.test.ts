// The boosted-tree ensemble (third in-kernel model kind) against its TypeScript reference, bit
// for bit, through the same tail-called stages that run on live flows (BPF_PROG_TEST_RUN), plus
// hot update across all three kinds and the refusal of malformed ensembles.
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { u32Key } from "../../native/index.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { CLASSIFIER_MAPS, GBT_END, GbtNode, GbtSlotLayout, MLP_MAX_INPUTS, ModelKind, ModelMeta, NUM_FEATURES } from "../../plugins/models/kernel/abi.ts";
import { KernelModelError } from "../../plugins/models/kernel/slot-image.ts";
import { ModelSlots } from "../../plugins/models/kernel/model-slots.ts";
import { kernelModelOf, probesFor, referenceVerdict } from "../../plugins/models/kernel/probes.ts";
import { predictKernel } from "../../plugins/models/kernel/predict.ts";
import { loadArtifact, type GbtModel } from "../../models/artifact/load.ts";
import { ArtifactError } from "../../models/artifact/manifest.ts";
import type { GbtEnsemble } from "../../models/gbt/ensemble.ts";
import { loadCsv } from "../../models/data/csv.ts";
import { rowsOf } from "../../models/pipeline/evaluate.ts";
import { predictUserSpace } from "../../models/pipeline/predict.ts";
import { computeMetrics } from "../../models/metrics.ts";
import { REPO_ROOT, sharedPath } from "../harness/paths.ts";
import { randInt, randomFeatures, rng } from "./models.ts";

const DATA = sharedPath("datasets/cic-ids-2017-improved", "the GBT on the CIC rows");
const HOLDOUT = join(REPO_ROOT, "models", "datasets", "matrix-holdout");
const GBT = loadArtifact(join(REPO_ROOT, "models", "artifacts", "matrix-gbt")) as GbtModel;

/** A random ensemble in the kernel's layout: each tree breadth first, leaves chaining on. */
function randomEnsemble(rand: () => number, nInputs: number, trees: number, maxDepth: number): GbtEnsemble {
  const e: GbtEnsemble = { base: randInt(rand, -50000, 50000), threshold: randInt(rand, -20000, 20000), leafScale: 65536, trees, steps: 0, feature: [], split: [], next: [] };
  for (let t = 0; t < trees; t++) {
    const root = e.feature.length;
    const depth = [0];
    e.feature.push(0); e.split.push(0); e.next.push(0);
    let deepest = 0;
    for (let i = root; i < e.feature.length; i++) {
      const d = depth[i - root]!;
      deepest = Math.max(deepest, d);
      if (d >= maxDepth || (d > 0 && rand() < 0.3)) {
        e.feature[i] = -1;
        // Leaves reach int32's ends sometimes: the s64 sum and the s32 score saturation both matter.
        e.split[i] = rand() < 0.05 ? (rand() < 0.5 ? 2 ** 31 - 1 : -(2 ** 31)) : randInt(rand, -200000, 200000);
        continue;
      }
      e.feature[i] = randInt(rand, 0, nInputs - 1);
      const r = rand();
      e.split[i] = r < 0.05 ? -1 : r < 0.1 ? Number.MAX_SAFE_INTEGER : r < 0.15 ? 2 ** 32 : randInt(rand, 0, 5000);
      e.next[i] = e.feature.length;
      e.feature.push(0, 0); e.split.push(0, 0); e.next.push(0, 0);
      depth[e.feature.length - 2 - root] = d + 1;
      depth[e.feature.length - 1 - root] = d + 1;
    }
    e.steps += deepest + 1;
    // Leaves go on to the next tree's root, or end.
    for (let i = root; i < e.feature.length; i++) if (e.feature[i] === -1) e.next[i] = t + 1 < trees ? e.feature.length : -1;
  }
  return e;
}

/** Kernel feature vectors: typical values, zeros, and values past 2^53 and 2^63 (s64-negative). */
function edgeFeatures(rand: () => number, n: number): bigint[][] {
  return randomFeatures(rand, n).map((row) => row.map((v) => {
    const r = rand();
    return r < 0.02 ? (1n << 63n) + BigInt(randInt(rand, 0, 1000)) : r < 0.04 ? (1n << 53n) + BigInt(randInt(rand, 0, 10)) : v;
  }));
}

function disagreements(slots: ModelSlots, km: ReturnType<typeof kernelModelOf>, rows: bigint[][], slot: number): number {
  const got = slots.evaluate(rows);
  let bad = 0;
  rows.forEach((row, i) => {
    const ref = referenceVerdict(km, row);
    if (!got[i]!.classified || got[i]!.attack !== ref.attack || got[i]!.score !== ref.score || got[i]!.slot !== slot) bad++;
  });
  return bad;
}

describe("in-kernel boosted trees", () => {
  test("random ensembles: the kernel matches the reference on every vector", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const rand = rng(26);
    const rows = edgeFeatures(rand, 1500);
    let attacks = 0;
    for (const [trees, depth] of [[1, 1], [7, 3], [50, 4], [100, 6], [230, 8]] as const) {
      const features = Array.from({ length: randInt(rand, 1, 32) }, () => randInt(rand, 0, 31));
      const ensemble = randomEnsemble(rand, features.length, trees, depth);
      const km = { kind: "gbt" as const, ensemble, features };
      const info = await slots.activate(km, trees, probesFor(km));
      expect({ trees, depth, bad: disagreements(slots, km, rows, info.slot) }).toEqual({ trees, depth, bad: 0 });
      attacks += rows.filter((r) => referenceVerdict(km, r).attack).length;
    }
    // Both verdicts occur: agreement on a constant answer would prove nothing.
    expect(attacks).toBeGreaterThan(0);
    expect(attacks).toBeLessThan(5 * rows.length);
  });

  test("the shipped matrix-gbt: zero disagreements on every row of the seed-26 holdout, and the metrics its report states", async () => {
    const rows = rowsOf(loadCsv(HOLDOUT));
    const kernel = await predictKernel(GBT, rows.x, rows.n);
    const reference = await predictUserSpace(GBT, rows.x, rows.n);
    let bad = 0;
    for (let i = 0; i < rows.n; i++) if (kernel.pred[i] !== reference.pred[i] || kernel.score[i] !== reference.score[i]) bad++;
    expect(rows.n).toBe(58_484);
    expect(bad).toBe(0);
    // The TypeScript reference reproduces the Python converter's own integer evaluation exactly.
    const m = computeMetrics(rows.y, kernel.pred, kernel.score);
    const stated = GBT.manifest.metrics.holdout_seed26 as { tp: number; fp: number; tn: number; fn: number };
    expect({ tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn }).toEqual({ tp: stated.tp, fp: stated.fp, tn: stated.tn, fn: stated.fn });
  }, 120_000);

  test.skipIf(DATA === null)("the shipped matrix-gbt: zero disagreements on all 43,419 CIC rows", async () => {
    const rows = rowsOf(loadCsv(DATA!));
    const kernel = await predictKernel(GBT, rows.x, rows.n);
    const reference = await predictUserSpace(GBT, rows.x, rows.n);
    let bad = 0, attacks = 0;
    for (let i = 0; i < rows.n; i++) {
      if (kernel.pred[i] !== reference.pred[i] || kernel.score[i] !== reference.score[i]) bad++;
      attacks += kernel.pred[i]!;
    }
    expect(rows.n).toBe(43_419);
    expect(bad).toBe(0);
    expect(attacks).toBeGreaterThan(0);
    expect(attacks).toBeLessThan(rows.n);
  }, 120_000);
});

describe("hot update across the three kinds", () => {
  test("MLP -> GBT -> DT through the two slots, each checked by its probes and then on every row", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    // Below 2^63: the MLP and tree references read features as unsigned, their kernels as s64.
    const rows = randomFeatures(rng(4), 400);
    const seen: string[] = [];
    for (const [name, version] of [["matrix-mlp", 1], ["matrix-gbt", 2], ["dt", 3]] as const) {
      const km = kernelModelOf(loadArtifact(join(REPO_ROOT, "models", "artifacts", name)));
      const before = slots.activeSlot;
      const info = await slots.activate(km, version, probesFor(km));
      expect(info.slot).toBe(1 - before);
      expect(slots.info()).toEqual({ slot: info.slot, kind: km.kind, version });
      expect(disagreements(slots, km, rows, info.slot)).toBe(0);
      expect(slots.evaluate(rows.slice(0, 5)).every((r) => r.version === version)).toBe(true);
      seen.push(`${km.kind}@${info.slot}`);
    }
    expect(seen).toEqual(["mlp@1", "gbt@0", "dt@1"]);
  });
});

describe("malformed ensembles", () => {
  const base = () => structuredClone(GBT.ensemble);
  const cases: [string, (e: GbtEnsemble) => void, RegExp][] = [
    ["a child pointing back", (e) => { e.next[0] = 0; }, /tree 0 node 0: children at 0, 1; breadth-first layout puts them at 1, 2/],
    ["a feature past the inputs", (e) => { e.feature[0] = 31; }, /tree 0 node 0 tests input 31; the model has 31/],
    ["a leaf that skips a tree", (e) => { const i = e.feature.indexOf(-1); e.next[i] = e.next[i]! + 1; }, /tree 0 node \d+: leaf goes on to \d+, another leaf of the tree to \d+|tree 0: its leaves go on to/],
    ["a leaf value past int32", (e) => { e.split[e.feature.indexOf(-1)] = 2 ** 31; }, /tree 0 node \d+: leaf value 2147483648 is not int32/],
    ["the last tree not ending", (e) => { e.next[e.next.length - 1] = 0; }, new RegExp(`tree 49 node ${GBT.ensemble.feature.length - 1}: leaf goes on to 0, another leaf of the tree to -1`)],
    ["a walk bound that lies", (e) => { e.steps -= 1; }, /walk bound \d+ differs from the trees' \d+/],
    ["too many nodes", (e) => { e.feature = new Array(16385).fill(-1); }, /ensemble has 16385 nodes; the kernel holds 1\.\.16384/],
  ];

  test("are refused before the kernel is touched, naming what and where; the running model stays", async () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    const good = kernelModelOf(GBT);
    await slots.activate(good, 7, probesFor(good));
    const before = slots.info();
    for (const [what, spoil, msg] of cases) {
      const e = base();
      spoil(e);
      const km = { kind: "gbt" as const, ensemble: e, features: GBT.features };
      let err: unknown;
      await slots.activate(km, 99).catch((x) => (err = x));
      expect({ what, err: err instanceof KernelModelError }).toEqual({ what, err: true });
      expect((err as Error).message).toMatch(/^boosted ensemble refused: /);
      expect({ what, msg: (err as Error).message }).toEqual({ what, msg: expect.stringMatching(msg) });
    }
    expect(slots.info()).toEqual(before);
  });

  test("the artifact loader refuses one too, naming the folder and the node", () => {
    const dir = mkdtempSync(join(tmpdir(), "xids-gbt-"));
    try {
      for (const f of ["manifest.json", "ensemble.json"]) copyFileSync(join(GBT.dir, f), join(dir, f));
      const e = JSON.parse(readFileSync(join(dir, "ensemble.json"), "utf8"));
      e.next[3] = 2;
      writeFileSync(join(dir, "ensemble.json"), JSON.stringify(e));
      expect(() => loadArtifact(dir)).toThrow(ArtifactError);
      expect(() => loadArtifact(dir)).toThrow(new RegExp(`invalid model artifact ${dir}: ensemble: tree 0 node 3: children at 2, 3`));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a cycle written straight into the map ends in no verdict, not a wrong one", () => {
    using dp = DataPlane.load();
    const slots = new ModelSlots(dp.coll);
    // Slot 1 by hand, bypassing every user-space check: node 0 -> children 0, 1; node 1 -> 0.
    const buf = new Uint8Array(GbtSlotLayout.size);
    const v = new DataView(buf.buffer);
    const node = (i: number, threshold: bigint, feature: number, next: number) => {
      const o = GbtSlotLayout.nodes + i * GbtNode.size;
      v.setBigInt64(o, threshold, true); v.setInt32(o + 8, feature, true); v.setUint32(o + 12, next, true);
    };
    node(0, 100n, 0, 0);
    node(1, 0n, 5, 0);
    node(2, 5n, -7, GBT_END); // a leaf-looking node with a bad feature: refused in the kernel too
    dp.coll.map(CLASSIFIER_MAPS.gbt).update(u32Key(1), buf);
    dp.coll.map(CLASSIFIER_MAPS.meta).update(u32Key(1), ModelMeta.encode({ ...ModelMeta.zero(), kind: ModelKind.GBT, version: 5, std_q: new Array(MLP_MAX_INPUTS).fill(1n) }));
    const row = (f0: bigint) => Array.from({ length: NUM_FEATURES }, (_, i) => (i === 0 ? f0 : 0n));
    // f0 <= 100 loops on node 0 until the walk bound; f0 > 100 goes to node 1 and back to 0 forever.
    const res = slots.evaluate([row(3n), row(1000n)], 1);
    expect(res.map((r) => r.classified)).toEqual([false, false]);
    // Node 2 (feature -7): reached through node 0's right child when node 0's next is 1.
    node(0, 100n, 0, 1);
    dp.coll.map(CLASSIFIER_MAPS.gbt).update(u32Key(1), buf);
    expect(slots.evaluate([row(1000n)], 1).map((r) => r.classified)).toEqual([false]);
  });
});
