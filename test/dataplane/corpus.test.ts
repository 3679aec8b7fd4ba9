// Acceptance: a generated corpus of malformed, truncated, fragmented and option-laden frames gives
// identical kernel and reference results, and neither side ever mis-parses: every frame's
// classification (and, when parsed, its ports, payload and header length) is the labelled one.
import { describe, expect, test } from "bun:test";
import { Counter } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { replayKernel, replayReference, type ReplayOptions } from "../../plugins/extractors/xdp/replay.ts";
import { ParseStatus, parsePacket } from "../../plugins/extractors/xdp/reference.ts";
import { generateCorpus } from "./corpus.ts";
import { rng } from "./packets.ts";
import { ensureBpfBuilt, expectSameRecords } from "./helpers.ts";

const N = 5000;
const corpus = generateCorpus(N, 20261122);
const STATUS_NAME = Object.fromEntries(Object.entries(ParseStatus).map(([k, v]) => [v, k]));

describe(`generated corpus (${N} frames)`, () => {
  test("covers every class of frame", () => {
    const byStatus = new Map<number, number>();
    for (const p of corpus) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1);
    console.log(`  corpus: ${[...byStatus].map(([s, n]) => `${STATUS_NAME[s]} ${n}`).join(", ")}`);
    for (const s of Object.values(ParseStatus)) expect(byStatus.get(s) ?? 0).toBeGreaterThan(20);
    expect(corpus.filter((p) => p.kind.startsWith("valid 6")).length).toBeGreaterThan(200);
  });

  test("the reference classifies and parses every frame as labelled", () => {
    const wrong: string[] = [];
    for (const [i, p] of corpus.entries()) {
      const got = parsePacket(p.data);
      const fields = p.expect && { sport: got.sport, dport: got.dport, payload: got.payload, l4Hdr: got.l4Hdr, proto: got.proto };
      if (got.status !== p.status || (p.expect && JSON.stringify(fields) !== JSON.stringify(p.expect))) {
        wrong.push(`#${i} ${p.kind}: got ${STATUS_NAME[got.status]} ${JSON.stringify(fields)}, want ${STATUS_NAME[p.status]} ${JSON.stringify(p.expect)}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  test("the kernel classifies every frame as labelled (counter deltas per test run)", () => {
    ensureBpfBuilt();
    using dp = DataPlane.load({ testClock: true, flowsV4: 4096, flowsV6: 4096 });
    const slot: Record<number, number> = {
      [ParseStatus.malformed]: Counter.malformed,
      [ParseStatus.fragment]: Counter.fragment,
      [ParseStatus.otherL4]: Counter.other_l4,
      [ParseStatus.nonIp]: Counter.non_ip,
    };
    let prev = dp.counterArray();
    const wrong: string[] = [];
    for (const [i, p] of corpus.entries()) {
      dp.setClock(p.tsNs);
      const ret = dp.xdp.testRun({ data: p.data }).retval;
      const now = dp.counterArray();
      const delta = (c: number) => now[c]! - prev[c]!;
      let got: number = ParseStatus.ok;
      for (const [s, c] of Object.entries(slot)) if (delta(c) === 1n) got = Number(s);
      const classified = Object.values(slot).reduce((n, c) => n + Number(delta(c)), 0);
      if (got !== p.status || classified > 1 || ret !== 2) wrong.push(`#${i} ${p.kind}: kernel says ${STATUS_NAME[got]} (ret ${ret})`);
      prev = now;
      dp.drain(() => {});
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  }, 60_000);

  test("random header-byte mutations (4000 frames): kernel == reference, frame by frame", () => {
    ensureBpfBuilt();
    // No labels here: flip 1-4 random bytes in the first 120 bytes of well-formed frames and demand
    // the same classification and the same records from both sides.
    const r = rng(7);
    const base = corpus.filter((p) => p.status === ParseStatus.ok);
    const mutated = Array.from({ length: 4000 }, (_, i) => {
      const src = base[i % base.length]!;
      const data = src.data.slice();
      for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) data[Math.floor(r() * Math.min(120, data.length))] = Math.floor(r() * 256);
      return { tsNs: src.tsNs + BigInt(i), data };
    }).sort((a, b) => (a.tsNs < b.tsNs ? -1 : 1));
    const opts: ReplayOptions = { idleTimeoutNs: 1_000_000_000n, dropMalformed: true };
    const ref = replayReference(mutated, opts);
    const ker = replayKernel(mutated, opts);
    expectSameRecords(ker.records, ref.records, "mutations");
    expect(ker.counters).toEqual(ref.counters);
    expect(Array.from(ker.actions)).toEqual(Array.from(ref.actions));
    console.log(`  mutations: ${ker.records.length} flows identical, ${ker.counters[Counter.malformed]} malformed`);
  }, 60_000);

  const variants: [string, ReplayOptions][] = [
    ["1 s idle, 5 s active, 0.5 s sweeps", { idleTimeoutNs: 1_000_000_000n, activeTimeoutNs: 5_000_000_000n, sweepIntervalNs: 500_000_000n }],
    ["drop malformed, early end after 4", { dropMalformed: true, earlyEndPkts: 4, allow: ["198.18.7.0/24", "2001:2:0:1::/64"] }],
    ["blocked and allowed sources", { block: [{ addr: "198.18.0.2", reason: 3 }, { addr: "2001:2::2", reason: 5, ttlNs: 30_000_000_000n }], allow: ["198.19.0.0/16"] }],
  ];
  for (const [name, opts] of variants) {
    test(`kernel == reference: ${name}`, () => {
      ensureBpfBuilt();
      const ref = replayReference(corpus, opts);
      const ker = replayKernel(corpus, opts);
      expectSameRecords(ker.records, ref.records, name);
      expect(ker.counters).toEqual(ref.counters);
      expect(Array.from(ker.actions)).toEqual(Array.from(ref.actions));
      const c = ker.counters;
      expect(c[Counter.pkts_seen]).toBe(BigInt(N));
      expect(c[Counter.pkts_passed]! + c[Counter.pkts_dropped]!).toBe(BigInt(N));
      expect(c[Counter.flows_started]).toBe(c[Counter.flows_ended]!);
      console.log(`  ${name}: ${ker.records.length} flows identical, dropped ${c[Counter.pkts_dropped]}`);
    }, 60_000);
  }
});
