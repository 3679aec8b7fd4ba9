// Kernel == reference on testbed traffic: a short real run (benign clients, scans, a flood, brute
// force, slow HTTP, over drawn link conditions) is captured on the victim as it arrives, then the
// capture is replayed through the BPF program (BPF_PROG_TEST_RUN, capture clock) and through the
// TypeScript reference with the testbed's own flow rules: every record, every feature (the
// source context 22..31 included) and every counter must be identical.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COUNTER_NAMES } from "../../core/ebpf/abi.ts";
import { readCapture } from "../../plugins/extractors/xdp/pcap.ts";
import { replayKernel, replayReference, type ReplayOptions } from "../../plugins/extractors/xdp/replay.ts";
import { CONTEXT_FEATURES } from "../../models/data/features.ts";
import { ensureBpfBuilt, expectSameRecords } from "../dataplane/helpers.ts";
import { runTestbed, TESTBED_FLOW_RULES } from "./run.ts";
import { selectScenarios } from "./scenarios.ts";

const dir = mkdtempSync(join(tmpdir(), "xids-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MS = 1_000_000n;
const IDS = ["web-browse", "dns-lookups", "busy-nat-client", "nmap-syn", "hping3-syn-flood", "hydra-ssh", "slowloris-script", "web-sqli"];

test("a captured testbed run: kernel and reference give identical records, source context included", async () => {
  ensureBpfBuilt();
  const path = join(dir, "run.pcapng");
  const run = await runTestbed({
    scenarios: selectScenarios(IDS), model: null, protect: false, seed: 5, links: "drawn", capture: path,
    attackMs: 5_000, attackStaggerMs: 1_000, leadMs: 1_000, tailMs: 1_000, prefix: "xidsc", log: () => {},
  });
  expect(run.capture?.bytes).toBeGreaterThan(100_000);
  const packets = readCapture(path);
  const opts: ReplayOptions = {
    idleTimeoutNs: BigInt(TESTBED_FLOW_RULES.idle_timeout_ms) * MS,
    activeTimeoutNs: BigInt(TESTBED_FLOW_RULES.active_timeout_ms) * MS,
    sweepIntervalNs: BigInt(TESTBED_FLOW_RULES.sweep_interval_ms) * MS,
  };
  const ker = replayKernel(packets, opts);
  const ref = replayReference(packets, opts);
  expectSameRecords(ker.records, ref.records, "testbed capture");
  const named = (c: bigint[]) => Object.fromEntries(c.map((v, i) => [COUNTER_NAMES[i] ?? i, v]));
  expect(named(ker.counters)).toEqual(named(ref.counters));
  // The comparison has teeth: the replay sees about the flows the live agent saw, and the
  // context is far from zero (a scanner's distinct ports, a flood's flow counts).
  expect(ker.records.length).toBeGreaterThan(run.flows.length * 0.8);
  const scanner = run.hosts.find((h) => h.scenario.id === "nmap-syn")!.ip;
  const maxPorts = Math.max(...ker.records.filter((r) => r.family === 4 && r.src.join(".") === scanner).map((r) => Number(r.features[24])));
  expect(maxPorts).toBeGreaterThan(40);
  const nonZero = CONTEXT_FEATURES.filter((i) => ker.records.some((r) => Number(r.features[i]) > 0));
  expect(nonZero).toEqual([...CONTEXT_FEATURES]);
  console.log(`  ${packets.length} packets, ${ker.records.length} records identical (live run: ${run.flows.length} flows)`);
}, 180_000);
