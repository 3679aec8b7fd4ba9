// The shipped artifacts in the kernel: every row of the shared data set classified by the
// in-kernel MLP and tree exactly as the TypeScript oracle does, and captures replayed with a
// model give the same verdicts and scores in the kernel as in the reference.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readCapture } from "../../plugins/extractors/xdp/pcap.ts";
import { kernelModelOf } from "../../plugins/models/kernel/probes.ts";
import { KernelModelError } from "../../plugins/models/kernel/slot-image.ts";
import { predictKernel } from "../../plugins/models/kernel/predict.ts";
import { classifyRecords, replayKernel, replayReference, sortRecords } from "../../plugins/extractors/xdp/replay.ts";
import { loadArtifact } from "../../models/artifact/load.ts";
import { loadCsv } from "../../models/data/csv.ts";
import { rowsOf } from "../../models/pipeline/evaluate.ts";
import { predictUserSpace } from "../../models/pipeline/predict.ts";
import { REPO_ROOT, sharedPath } from "../harness/paths.ts";

const DATA = sharedPath("datasets/cic-ids-2017-improved", "kernel vs reference on the data set");
const PCAPS = sharedPath("pcaps", "replay with a model");

describe.each(["mlp-int32", "dt"])("models/%s in the kernel", (name) => {
  const model = loadArtifact(join(REPO_ROOT, "models", "artifacts", name));

  test.skipIf(DATA === null)("zero disagreements with the reference on every row of the data set", async () => {
    const rows = rowsOf(loadCsv(DATA!));
    const kernel = await predictKernel(model, rows.x, rows.n);
    const reference = await predictUserSpace(model, rows.x, rows.n);
    let disagreements = 0, attacks = 0;
    for (let i = 0; i < rows.n; i++) {
      if (kernel.pred[i] !== reference.pred[i] || kernel.score[i] !== reference.score[i]) disagreements++;
      attacks += kernel.pred[i]!;
    }
    expect(rows.n).toBe(43_419);
    expect(disagreements).toBe(0);
    // A model that says the same thing for every row would agree trivially.
    expect(attacks).toBeGreaterThan(30_000);
    expect(attacks).toBeLessThan(rows.n);
  });

  test.skipIf(PCAPS === null)("replayed captures get the same verdicts and scores in the kernel and the reference", () => {
    const km = kernelModelOf(model);
    for (const capture of ["chrissanders/synscan.pcapng", "chrissanders/ftp-crack.pcap", "esnet/nmap_nmap_80_all.pcap", "dpkt/http.pcap"]) {
      const packets = readCapture(join(PCAPS!, capture));
      const kernel = sortRecords(replayKernel(packets, { model: km }).records);
      const reference = replayReference(packets, {}).records;
      classifyRecords(reference, km);
      const view = (rs: typeof kernel) => rs.map((r) => `${r.srcPort}>${r.dstPort} ${r.firstUs} ${r.verdict} ${r.score} ${r.features.join(",")}`);
      expect(view(kernel)).toEqual(view(sortRecords(reference)));
      expect(kernel.every((r) => r.verdict === 1 || r.verdict === 2)).toBe(true);
    }
  }, 30_000); // about 3 s idle; four captures through the kernel and the reference take longer on a loaded machine
});

test("an XGBoost artifact is refused for the kernel with the reason", () => {
  expect(() => kernelModelOf(loadArtifact(join(REPO_ROOT, "models/artifacts/xgb")))).toThrow(KernelModelError);
  expect(() => kernelModelOf(loadArtifact(join(REPO_ROOT, "models/artifacts/xgb")))).toThrow(/run in user space \(ONNX Runtime\), not in the kernel/);
});
