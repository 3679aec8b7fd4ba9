// Hot update under load: traffic runs through the XDP program on both CPUs while the model is
// swapped thousands of times between two models that disagree on every flow. Each record must
// carry the verdict of exactly the model version it names (no mixed state), and every flow must
// be classified (detection never pauses).
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeRecord, type FlowRecord } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { ModelSlots } from "../../plugins/models/kernel/model-slots.ts";
import { inferInt32, type Int32Params } from "../../models/mlp/int32.ts";
import { PinDir } from "../harness/bpffs.ts";
import { randomMlp, rng } from "./models.ts";

const MAX_FLOWS_PER_CPU = 100_000;
const SWAPS = 1500;

/** The same network with its two logits swapped: it disagrees wherever the score is not 0. */
function mirrored(p: Int32Params): Int32Params {
  const last = p.layers[p.layers.length - 1]!;
  const w = new Int32Array(last.w_q.length);
  w.set(last.w_q.subarray(last.in, 2 * last.in), 0);
  w.set(last.w_q.subarray(0, last.in), last.in);
  const bias = Int32Array.from([last.bias_q[1]!, last.bias_q[0]!]);
  return { ...p, layers: [...p.layers.slice(0, -1), { ...last, w_q: w, bias_q: bias }] };
}

test("thousands of hot swaps under two-CPU traffic: every verdict from one whole model", async () => {
  using pins = new PinDir("stress");
  // Alert-only: the traffic must keep flowing through the classifier, not get its sources blocked.
  using dp = DataPlane.load({ modelAction: "alert" });
  const slots = new ModelSlots(dp.coll);
  const a = randomMlp(rng(2024), [6, 16, 2], 10, 12);
  a.features = [0, 2, 3, 4, 16, 18]; // dst port, packets, bytes, max len, header bytes, window
  const b = mirrored(a);
  const modelOf = (version: number) => (version % 2 === 1 ? a : b);
  await slots.activate({ kind: "mlp", params: a }, 1);
  dp.xdp.pin(pins.join("xdp"));

  const tmp = mkdtempSync(join(tmpdir(), "xids-stress-"));
  const stopFile = join(tmp, "stop"); // bpffs holds only BPF objects
  const workers = [0, 1].map((cpu) =>
    Bun.spawn(["taskset", "-c", String(cpu), process.execPath, join(import.meta.dir, "stress-worker.ts"), pins.join("xdp"), String(cpu), String(MAX_FLOWS_PER_CPU), stopFile], {
      stdout: "pipe", stderr: "pipe", timeout: 90_000,
    }),
  );
  const records: FlowRecord[] = [];
  let version = 1;
  let running = true;
  const done = Promise.all(workers.map(async (w) => [await w.exited, Number(await new Response(w.stdout).text())] as const))
    .then((r) => { running = false; return r; });
  // Swap while the traffic runs; then tell the workers to stop.
  // Pace the swaps by the traffic (a few new flows per model version), so that both keep going
  // together however the two CPUs happen to be shared.
  while (running && version <= SWAPS) {
    version++;
    await slots.activate({ kind: "mlp", params: modelOf(version) }, version);
    const want = records.length + 8;
    const until = performance.now() + 50;
    while (running && records.length < want && performance.now() < until) {
      for (const raw of dp.events.consume()) records.push(decodeRecord(raw));
      if (records.length < want) await Bun.sleep(0);
    }
  }
  writeFileSync(stopFile, "");
  const results = await done;
  rmSync(tmp, { recursive: true, force: true });
  for (const raw of dp.events.consume()) records.push(decodeRecord(raw));
  expect(results.map(([code]) => code)).toEqual([0, 0]);
  const sent = results.reduce((n, [, flows]) => n + flows, 0);
  expect(dp.counter("records_lost")).toBe(0n);
  expect(records.length).toBe(sent);
  let wrong = 0, unclassified = 0, disagreeing = 0;
  const versionsSeen = new Set<number>();
  for (const r of records) {
    if (r.verdict === 0) { unclassified++; continue; }
    versionsSeen.add(r.modelVersion);
    const model = modelOf(r.modelVersion);
    const ref = inferInt32(model, model.features.map((f) => r.features[f]!));
    const other = inferInt32(modelOf(r.modelVersion + 1), model.features.map((f) => r.features[f]!));
    if ((r.verdict === 2) !== ref.attack || r.score !== ref.score) wrong++;
    if (ref.attack !== other.attack) disagreeing++;
  }
  console.log(`hot-update stress: ${version - 1} swaps, ${records.length} flows on 2 CPUs, ${versionsSeen.size} model versions seen, ${disagreeing} flows where the models disagree`);
  expect(unclassified).toBe(0);
  expect(wrong).toBe(0);
  expect(version - 1).toBe(SWAPS);
  expect(versionsSeen.size).toBeGreaterThan(100);
  expect(disagreeing).toBeGreaterThan(records.length / 4);
}, 120_000);
