// The paper's loop in a namespace testbed: a real attack tool's flows are classified by the
// shipped int32 MLP in the kernel, the attacker is blocked there and its next packets dropped,
// while a benign client downloading from a real web server is never blocked.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { formatIp } from "../../core/ebpf/addr.ts";
import type { FlowRecord } from "../../core/ebpf/abi.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { kernelModelOf, probesFor } from "../../plugins/models/kernel/probes.ts";
import { ModelSlots } from "../../plugins/models/kernel/model-slots.ts";
import { buildTopology } from "../testbed/topology.ts";
import { loadArtifact } from "../../models/artifact/load.ts";
import { XdpLink } from "../../native/index.ts";
import { REPO_ROOT } from "../harness/paths.ts";

test("an nmap SYN scan gets its source blocked in the kernel; a benign web client does not", async () => {
  using topo = buildTopology("xidst");
  // A short idle timeout: scan probes to closed ports never see a FIN or RST from the scanner.
  using dp = DataPlane.load({ idleTimeoutNs: 1_000_000_000n, blockTtlNs: 120_000_000_000n, blockReason: 7 });
  const model = kernelModelOf(loadArtifact(join(REPO_ROOT, "models/artifacts/mlp-int32")));
  await new ModelSlots(dp.coll).activate(model, 3, probesFor(model));
  const links = topo.victimIfaces.map((ifname) => XdpLink.attach(dp.xdp, { ifname, netns: topo.victim.path, mode: "native" }));
  const web = topo.victim.spawn(["timeout", "60", "python3", "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory", join(REPO_ROOT, "models")]);
  const records: FlowRecord[] = [];
  const collect = () => {
    dp.drain((r) => records.push(r));
    dp.sweep("expire", (r) => records.push(r)); // what the agent does periodically
  };
  const download = () =>
    topo.client.ns.exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", `http://${topo.victimIpFor.client}/README.md`], { allowFail: true });
  try {
    for (let i = 0; i < 50 && (await download()).stdout !== "200"; i++) await Bun.sleep(100); // server up
    for (let i = 0; i < 4; i++) expect((await download()).stdout).toBe("200");

    await topo.attacker.ns.exec(["nmap", "-sS", "-n", "-Pn", "-T4", "--max-retries", "0", "-p", "1-200", topo.victimIpFor.attacker], { timeoutMs: 60_000 });
    for (let i = 0; i < 12; i++) {
      await Bun.sleep(250);
      collect();
    }

    const attacker = topo.attacker.ip, client = topo.client.ip;
    const from = (ip: string) => records.filter((r) => r.family === 4 && formatIp(4, r.src) === ip);
    const blocks = dp.blocks();
    // The scanner: classified as an attack in the kernel, blocked with the configured reason,
    // and everything it sends afterwards is dropped in XDP.
    expect(from(attacker).some((r) => r.verdict === 2 && r.modelVersion === 3)).toBe(true);
    expect(blocks.find((b) => b.addr === attacker)?.reason).toBe(7);
    expect(dp.counter("drop_reason_7")).toBeGreaterThan(0n);
    const ping = await topo.attacker.ns.exec(["ping", "-c", "2", "-i", "0.2", "-W", "1", topo.victimIpFor.attacker], { allowFail: true });
    expect(ping.code).not.toBe(0);
    // The entry says when the kernel blocked and when it first dropped (detection latency).
    const entry = dp.blocks().find((b) => b.addr === attacker)!;
    const firstAttackNs = from(attacker).reduce((m, r) => (r.firstUs < m ? r.firstUs : m), 1n << 62n) * 1000n;
    expect(entry.addedNs).toBeGreaterThan(firstAttackNs);
    expect(entry.firstDropNs).toBeGreaterThanOrEqual(entry.addedNs);
    // The client: every flow classified benign, never blocked, still served.
    expect(from(client).length).toBeGreaterThanOrEqual(4);
    expect(from(client).filter((r) => r.verdict !== 1).map((r) => `${r.srcPort}->${r.dstPort} end ${r.endReason} n ${r.features[2]} score ${r.score}`)).toEqual([]);
    expect(blocks.some((b) => b.addr === client)).toBe(false);
    expect((await download()).stdout).toBe("200");
  } finally {
    web.kill("SIGTERM"); // timeout(1) passes SIGTERM on to the server; SIGKILL would orphan it
    for (const l of links) l.close();
  }
}, 120_000);
