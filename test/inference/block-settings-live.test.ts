// The kernel's block settings change on a loaded program (a reload): packet by packet
// (BPF_PROG_TEST_RUN, test clock), a source that the loaded policy would not block yet is blocked
// by the next flow once the policy is rewritten, with the new TTL and reason; switching blocking
// off (alert only) stops new blocks at the next flow; nothing else in the program is reloaded.
import { expect, test } from "bun:test";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { BlockAction } from "../../core/ebpf/abi.ts";
import { ModelSlots } from "../../plugins/models/kernel/model-slots.ts";
import type { FlatTree } from "../../models/index.ts";
import { frame } from "../dataplane/packets.ts";
import { ensureBpfBuilt } from "../dataplane/helpers.ts";

const T = 1_000_000_000_000n;
const S = 1_000_000_000n;
// Input 0 is Dst Port: <= 1000 is an attack.
const tree: FlatTree = { feature: [0, -1, -1], threshold: [1000, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 65536, 0], cls: [0, 1, 0] };

function flow(dp: DataPlane, src: string, sport: number, at: bigint): number[] {
  dp.setClock(at);
  dp.xdp.testRun({ data: frame({ src, dst: "198.18.1.1", proto: "tcp", sport, dport: 22, flags: 0x01, payload: 0 }) });
  const actions: number[] = [];
  dp.drain((r) => actions.push(r.blockAction));
  return actions;
}

test("a rewritten policy, TTL and reason apply from the next flow; alert mode stops blocking", async () => {
  ensureBpfBuilt();
  using dp = DataPlane.load({ testClock: true, flowsV4: 1024, flowsV6: 1024, blockReason: 5, blockTtlNs: 60n * S, blockLonePacket: true, blockPolicy: { minAttacks: 10, minAttackPct: 0, windowNs: 60n * S } });
  await new ModelSlots(dp.coll).activate({ kind: "dt", tree, features: [0] }, 1);
  const progId = dp.xdp.id;
  expect(flow(dp, "198.18.0.7", 40000, T)).toEqual([BlockAction.not_yet]);
  expect(flow(dp, "198.18.0.7", 40001, T + 1n)).toEqual([BlockAction.not_yet]);

  dp.setBlocking({ blockReason: 9, blockTtlNs: 600n * S, blockLonePacket: true, blockPolicy: { minAttacks: 3, minAttackPct: 0, windowNs: 60n * S } });
  expect(flow(dp, "198.18.0.7", 40002, T + 2n)).toEqual([BlockAction.blocked]); // its third attack verdict in the window
  const entry = dp.blocks().find((b) => b.addr === "198.18.0.7")!;
  expect([entry.reason, entry.expiresNs - entry.addedNs]).toEqual([9, 600n * S]);
  expect(dp.xdp.id).toBe(progId);

  dp.setBlocking({ modelAction: "alert" });
  expect(flow(dp, "198.18.0.8", 40000, T + 3n)).toEqual([BlockAction.alert]);
  expect(dp.blocks().map((b) => b.addr)).toEqual(["198.18.0.7"]);
});
