// Acceptance: for every capture in ../shared/pcaps, the kernel (BPF_PROG_TEST_RUN with the test
// clock) and the reference give identical flow records, field by field, and identical counters.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readCapture } from "../../plugins/extractors/xdp/pcap.ts";
import { COUNTER_NAMES, Counter } from "../../core/ebpf/abi.ts";
import { replayKernel, replayReference, type ReplayOptions } from "../../plugins/extractors/xdp/replay.ts";
import { sharedPath } from "../harness/paths.ts";
import { ensureBpfBuilt, expectSameRecords } from "./helpers.ts";

const dir = sharedPath("pcaps", "kernel vs reference on the shared captures");
const captures = dir
  ? readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(d.name, f)))
      .sort()
  : [];

function compare(rel: string, opts: ReplayOptions): number {
  const packets = readCapture(join(dir!, rel));
  const ref = replayReference(packets, opts);
  const ker = replayKernel(packets, opts);
  expectSameRecords(ker.records, ref.records, rel);
  const named = (c: bigint[]) => Object.fromEntries(c.map((v, i) => [COUNTER_NAMES[i] ?? i, v]));
  expect(named(ker.counters)).toEqual(named(ref.counters));
  expect(Array.from(ker.actions)).toEqual(Array.from(ref.actions));
  // Every flow that started has ended (nothing evicted, nothing lost), and the counters add up.
  const c = ker.counters;
  expect(c[Counter.flows_started]).toBe(c[Counter.flows_ended]!);
  expect(c[Counter.records_emitted]).toBe(BigInt(ker.records.length));
  expect(c[Counter.records_lost]).toBe(0n);
  expect(c[Counter.pkts_seen]).toBe(c[Counter.pkts_passed]! + c[Counter.pkts_dropped]!);
  expect(c[Counter.pkts_seen]).toBe(BigInt(packets.length - ker.skipped));
  return ker.records.length;
}

describe.skipIf(dir === null)("kernel and reference agree on every shared capture", () => {
  ensureBpfBuilt();
  test("the shared capture set is there", () => expect(captures.length).toBeGreaterThan(10));
  for (const rel of captures) {
    test(rel, () => {
      const n = compare(rel, {});
      expect(n).toBeGreaterThan(0);
      console.log(`  ${rel}: ${n} flows identical`);
    }, 30_000);
  }
  // Other end rules on a few captures: short idle/active timeouts, early end, malformed drop.
  const variants: [string, ReplayOptions][] = [
    ["short timeouts", { idleTimeoutNs: 2_000_000n, activeTimeoutNs: 50_000_000n, sweepIntervalNs: 250_000_000n }],
    ["early end after 3 packets", { earlyEndPkts: 3 }],
    ["drop malformed, no periodic sweep", { dropMalformed: true, sweepIntervalNs: 0n }],
  ];
  const subset = captures.filter((c) => /ftp-crack|http_espn|tcp_control|fragmented|nb6-http|dns_icmp/.test(c));
  for (const [name, opts] of variants) {
    test(`${name}: ${subset.length} captures`, () => {
      let flows = 0;
      for (const rel of subset) flows += compare(rel, opts);
      console.log(`  ${name}: ${flows} flows identical`);
    }, 60_000);
  }
});
