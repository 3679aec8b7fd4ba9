// Swapping the XDP program of a live link (BPF link update, what a restarted agent does when it
// re-adopts a pinned link) while traffic flows: the new program reads the same pinned block list,
// so not one packet of a blocked source gets through, and every packet of a benign one arrives.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { XdpLink } from "../../native/index.ts";
import { DataPlane } from "../../core/ebpf/dataplane.ts";
import { MAPS } from "../../core/ebpf/abi.ts";
import { PinDir } from "../harness/bpffs.ts";
import { twoHosts } from "../harness/netns.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { ensureBpfBuilt } from "./helpers.ts";

const ATTACKER = "198.18.0.66";
const PORT = 9100;
const PACKETS = 600; // each sender: one datagram every 2 ms, about 1.2 s

test("XdpLink.update() under traffic: no packet of a blocked source passes, every benign packet arrives", async () => {
  ensureBpfBuilt();
  using hosts = twoHosts();
  using pins = new PinDir("update");
  hosts.client.execSync(["ip", "addr", "add", `${ATTACKER}/24`, "dev", "eth0"]);
  const pinned = { flowsV4: 4096, flowsV6: 4096, pinDir: pins.path };
  const first = DataPlane.load(pinned);
  let second: DataPlane | null = null;
  const link = XdpLink.attach(first.xdp, { ifname: "eth0", netns: hosts.server.path, mode: "native" });
  try {
    first.block(ATTACKER, { reason: 4 });
    const receiver = hosts.server.spawn([process.execPath, join(REPO_ROOT, "test/observe/udp-count.ts"), String(PORT), "20000"]);
    await Bun.sleep(300); // the receiver binds
    const send = (src: string) => hosts.client.exec([process.execPath, join(REPO_ROOT, "test/core/udp-send.ts"), src, hosts.serverIp, String(PORT), String(PACKETS)], { timeoutMs: 30_000 });
    const senders = Promise.all([send(hosts.clientIp), send(ATTACKER)]);
    // Swap while both senders are mid-stream: the second program re-uses the pinned maps.
    await Bun.sleep(500);
    const dropsBefore = first.counter("drop_blocked");
    second = DataPlane.load(pinned);
    link.update(second.xdp);
    expect(link.progId).toBe(second.xdp.id);
    const results = await senders;
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    await Bun.sleep(200);
    receiver.kill("SIGTERM");
    const counts = JSON.parse((await new Response(receiver.stdout).text()).trim()) as Record<string, number>;
    expect(counts[ATTACKER] ?? 0).toBe(0);
    expect(counts[hosts.clientIp]).toBe(PACKETS);
    // Both programs dropped some of the attacker's packets (the swap happened mid-stream), and
    // the shared counters account for every one of them.
    const drops = second.counter("drop_blocked");
    expect(dropsBefore).toBeGreaterThan(0n);
    expect(drops).toBeGreaterThan(dropsBefore);
    expect(drops).toBe(BigInt(PACKETS));
    expect([...second.coll.map(MAPS.blocklist).entries()].length).toBe(1);
  } finally {
    link.close();
    second?.close();
    first.close();
  }
}, 60_000);
