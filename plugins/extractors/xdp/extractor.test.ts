// The XDP extractor plugin on the real XDP object (BPF_PROG_TEST_RUN packets, the test clock):
// nothing is drained before the core opens the stream, then every ended flow arrives once with
// the kernel's fields; flush() ends live flows; without an attached data plane it delivers none.
import { describe, expect, test } from "bun:test";
import { DataPlane } from "../../../core/ebpf/dataplane.ts";
import { NUM_FEATURES } from "../../../core/ebpf/abi.ts";
import { MemoryDataPlane } from "../../../core/ebpf/memory-dataplane.ts";
import type { DataPlanePort } from "../../../core/plugin-api/services.ts";
import type { FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { TCP, tcpFrame, udpFrame } from "../../../test/harness/packets.ts";
import { startBuiltin, testServices, waitFor } from "../../../test/core/util.ts";
import { xdpExtractor, type XdpExtractorApi } from "./index.ts";

/** A data-plane port whose kernel is a loaded (not attached) XDP object. */
function portFor(dp: DataPlane, sweepMs: number): DataPlanePort {
  const mem = new MemoryDataPlane();
  return Object.assign(Object.create(mem) as DataPlanePort, { kernel: dp, ifname: "test0", xdpMode: "native", settings: { ...mem.settings, sweep_interval_ms: sweepMs } });
}

const ATTACKER = "198.18.0.9";
const VICTIM = "198.18.0.1";

describe("xdp extractor", () => {
  test("drains only once the stream is open; each ended flow once, as the kernel wrote it; flush ends live flows", async () => {
    using dp = DataPlane.load({ testClock: true });
    const reg = xdpExtractor();
    const api = (await startBuiltin(reg, {}, "xdp", testServices(portFor(dp, 60_000)))) as XdpExtractorApi;
    let clock = 1_000_000_000n;
    const send = (f: Uint8Array) => {
      dp.setClock((clock += 1_000_000n));
      expect(dp.xdp.testRun({ data: f }).retval).toBe(2);
    };
    // A whole TCP exchange ends on FIN before anyone listens: the record waits in the ring.
    for (const flags of [TCP.SYN, TCP.ACK, TCP.ACK | TCP.PSH, TCP.FIN | TCP.ACK]) send(tcpFrame({ src: ATTACKER, dst: VICTIM, sport: 40000, dport: 80, flags, payload: flags & TCP.PSH ? new Uint8Array(100) : undefined }));
    await Bun.sleep(50);
    const got: FlowRecord[] = [];
    const stop = api.stream((r) => got.push(r), () => {});
    try {
      await waitFor("the FIN-ended flow", () => got.length === 1, 2_000);
      const r = got[0]!;
      expect([r.family, r.protocol, r.srcAddr, r.srcPort, r.dstAddr, r.dstPort, r.endReason, r.source]).toEqual([4, 6, ATTACKER, 40000, VICTIM, 80, 1, "test0"]);
      expect(r.features.length).toBe(NUM_FEATURES);
      expect(r.features[2]).toBe(4); // Total Fwd Packets
      // A UDP flow stays live until flushed (reason eoc = 7).
      send(udpFrame({ src: ATTACKER, dst: VICTIM, sport: 5353, dport: 53, payload: new Uint8Array(40) }));
      await Bun.sleep(50);
      expect(got.length).toBe(1);
      expect(api.flush()).toBe(1);
      expect(got.length).toBe(2);
      expect([got[1]!.protocol, got[1]!.dstPort, got[1]!.endReason]).toEqual([17, 53, 7]);
    } finally {
      stop();
      await reg.stop!(api);
    }
  });

  test("the sweep ends idle flows with no traffic", async () => {
    using dp = DataPlane.load({ idleTimeoutNs: 1_000_000n });
    const reg = xdpExtractor();
    const api = (await startBuiltin(reg, {}, "xdp", testServices(portFor(dp, 20)))) as XdpExtractorApi;
    const got: FlowRecord[] = [];
    const stop = api.stream((r) => got.push(r), () => {});
    try {
      expect(dp.xdp.testRun({ data: udpFrame({ src: ATTACKER, dst: VICTIM, sport: 1234, dport: 9 }) }).retval).toBe(2);
      await waitFor("the idle flow to be swept", () => got.length === 1, 2_000);
      expect(got[0]!.endReason).toBe(3); // idle
    } finally {
      stop();
      await reg.stop!(api);
    }
  });

  test("without an attached data plane it delivers nothing and says why in Describe", async () => {
    const api = (await startBuiltin(xdpExtractor(), {}, "xdp")) as XdpExtractorApi;
    const stop = api.stream(() => {
      throw new Error("no record expected");
    }, () => {});
    expect(api.flush()).toBe(0);
    expect((await api.describe()).properties).toEqual({ interfaces: "", xdp_mode: "none" });
    stop();
  });
});
