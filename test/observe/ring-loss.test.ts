// Flow records the kernel cannot hand to user space are counted and reported, never silent: an
// agent whose small ring buffer nobody drains (no extractor configured) loses records, and the
// loss shows in /metrics (equal to the kernel's own counter) and in a warning in the log.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/util/log.ts";
import type { KernelDataPlane } from "../../core/ebpf/kernel-dataplane.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { twoHosts } from "../harness/netns.ts";
import { BUN, REPO, TempDir, waitFor } from "../core/util.ts";
import { parseExposition, valueOf } from "./prom-parse.ts";

test("records lost from a full ring buffer reach xids_ringbuf_lost_total and the log", async () => {
  using hosts = twoHosts();
  using dir = new TempDir();
  const r = checkConfig(
    {
      dataplane: { interfaces: ["eth0"], netns: hosts.server.name, early_end_packets: 1, ring_bytes: 4096 },
      pipeline: { models: [], responders: [] },
      plugins: [],
      control: { socket: dir.file("ctl.sock") },
      http: { listen: "127.0.0.1:0" },
    },
    builtinCatalog,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const lines: string[] = [];
  const agent = await Agent.start(r.config, { ...builtins, log: createLogger("xids", "warn", (l) => lines.push(l)) });
  try {
    expect(lines.some((l) => l.includes("XDP is attached but no extractor plugin reads its flow records"))).toBe(true);
    // 200 one-datagram flows (early end after 1 packet) into a ring of ~15 records.
    const sent = await hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), hosts.clientIp, hosts.serverIp, "9", "200"], { timeoutMs: 20_000 });
    expect(sent.code).toBe(0);
    const kernel = (agent.dataplane as KernelDataPlane).kernel;
    await waitFor("records to be lost", () => kernel.counter("records_lost") > 150n, 5_000);
    // Stray flows (IPv6 neighbour discovery) may still end while we read: bracketed.
    const lostBefore = Number(kernel.counter("records_lost"));
    const fam = parseExposition(await (await fetch(`${agent.httpUrl}/metrics`)).text());
    const lostAfter = Number(kernel.counter("records_lost"));
    for (const name of ["xids_ringbuf_lost_total", "xids_kernel_records_lost_total"]) {
      expect(valueOf(fam, name)).toBeGreaterThanOrEqual(lostBefore);
      expect(valueOf(fam, name)).toBeLessThanOrEqual(lostAfter);
    }
    const ended = Number(kernel.counter("flows_ended")), emitted = Number(kernel.counter("records_emitted")), lost = Number(kernel.counter("records_lost"));
    expect(lost + emitted).toBe(ended);
    await waitFor("the loss warning", () => lines.some((l) => /ring buffer full: \d+ flow record\(s\) lost/.test(l)), 3_000);
  } finally {
    await agent.stop();
  }
}, 30_000);
