// The evidence `xids explain` reads: bounded per source and in sources, least recently seen source
// evicted first, and the flows up to a block decision kept as they were when later flows come.
import { describe, expect, test } from "bun:test";
import { EvidenceBuffer } from "../../core/agent/evidence.ts";
import { Classification, FlowRecord, KernelBlock, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";

let nextId = 1;
const rec = (src: string, kernelBlock = KernelBlock.KERNEL_BLOCK_NONE) => FlowRecord.create({ id: nextId++, srcAddr: src, kernelBlock });
const ids = (flows: { record?: FlowRecord }[]) => flows.map((f) => f.record!.id);

describe("evidence buffer", () => {
  test("keeps each source's latest perSource flows, oldest first", () => {
    const ev = new EvidenceBuffer(4, 8);
    const added = Array.from({ length: 6 }, () => rec("198.18.0.1"));
    added.forEach((r) => ev.add(r));
    expect(ids(ev.of("198.18.0.1").latest)).toEqual(added.slice(2).map((r) => r.id));
    expect(ev.of("198.18.0.9")).toEqual({ latest: [], decision: [] });
  });

  test("at most `sources` sources: the one seen least recently goes first", () => {
    const ev = new EvidenceBuffer(4, 2);
    ev.add(rec("198.18.0.1"));
    ev.add(rec("198.18.0.2"));
    ev.add(rec("198.18.0.1")); // .1 seen again: .2 is now the least recent
    ev.add(rec("198.18.0.3"));
    expect(ev.of("198.18.0.2").latest).toEqual([]);
    expect(ev.of("198.18.0.1").latest.length).toBe(2);
    expect(ev.of("198.18.0.3").latest.length).toBe(1);
  });

  test("the flows up to a kernel block decision stay when later flows push them out of the latest", () => {
    const ev = new EvidenceBuffer(4, 8);
    const src = "198.18.0.5";
    const before = [rec(src, KernelBlock.KERNEL_BLOCK_NOT_YET), rec(src, KernelBlock.KERNEL_BLOCK_NOT_YET)];
    const decision = rec(src, KernelBlock.KERNEL_BLOCK_BLOCKED);
    for (const r of [...before, decision]) ev.add(r);
    // Later flows of the blocked source do not make a new decision: the block was already there.
    for (let i = 0; i < 6; i++) ev.add(rec(src, KernelBlock.KERNEL_BLOCK_BLOCKED));
    // perSource / 2 = 2 flows up to the decision: the last NOT_YET one and the one that blocked.
    expect(ids(ev.of(src).decision)).toEqual([before[1]!.id, decision.id]);
    expect(ev.of(src).latest.every((f) => f.record!.kernelBlock === KernelBlock.KERNEL_BLOCK_BLOCKED)).toBe(true);
    // The block expired and the source was blocked again: that is the latest decision.
    ev.add(rec(src, KernelBlock.KERNEL_BLOCK_NOT_YET));
    const again = rec(src, KernelBlock.KERNEL_BLOCK_BLOCKED);
    ev.add(again);
    expect(ev.of(src).decision.at(-1)!.record!.id).toBe(again.id);
  });

  test("detections attach to their flow; a block by the core is a decision", () => {
    const ev = new EvidenceBuffer(4, 8);
    const src = "2001:2::7";
    const r = rec(src);
    ev.add(r);
    expect(ev.of(src).decision).toEqual([]);
    const classification = Classification.create({ flowId: r.id, verdict: Verdict.VERDICT_ATTACK, score: 0.9, model: "dt:dt v1" });
    ev.detected(Detection.create({ record: r, classification, action: "blocked" }));
    const [flow] = ev.of(src).latest;
    expect(flow!.classification).toEqual(classification);
    expect(flow!.action).toBe("blocked");
    expect(ids(ev.of(src).decision)).toEqual([r.id]);
    // A detection for a flow no longer kept (or a source never seen) changes nothing.
    ev.detected(Detection.create({ record: rec("198.18.0.99"), classification, action: "blocked" }));
    expect(ev.of("198.18.0.99").latest).toEqual([]);
  });
});
