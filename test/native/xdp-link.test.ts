import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Collection, XdpAction, XdpLink, u32Key, xdpQuery } from "../../native/index.ts";
import { PinDir } from "../harness/bpffs.ts";
import { twoHosts } from "../harness/netns.ts";
import { FIXTURES } from "../harness/paths.ts";

const BASIC = join(FIXTURES, "basic.bpf.o");

async function pingOk(hosts: ReturnType<typeof twoHosts>, count = 2): Promise<boolean> {
  const r = await hosts.client.exec(["ping", "-c", String(count), "-i", "0.2", "-W", "1", hosts.serverIp], { allowFail: true, timeoutMs: 10_000 });
  return r.code === 0;
}

/** One bounded TCP exchange: a listener in the server namespace, a client sending one line. */
async function tcpExchange(hosts: ReturnType<typeof twoHosts>, port: number): Promise<string> {
  const server = hosts.server.spawn(["timeout", "5", "nc", "-l", "-s", hosts.serverIp, "-p", String(port)]);
  try {
    await Bun.sleep(200);
    await hosts.client.exec(["nc", "-N", "-w", "2", hosts.serverIp, String(port)], { stdin: "hello over tcp\n", allowFail: true, timeoutMs: 5_000 });
    const received = await Promise.race([new Response(server.stdout).text(), Bun.sleep(4000).then(() => "")]);
    return received;
  } finally {
    server.kill("SIGTERM"); // timeout(1) passes it on to nc; SIGKILL would orphan nc
  }
}

describe("XdpLink", () => {
  test("native XDP on a veth in a namespace passes real traffic, then drops it when switched", async () => {
    using hosts = twoHosts();
    using coll = Collection.load(BASIC);
    const counts = coll.map("pkt_count");
    using link = XdpLink.attach(coll.program("xdp_verdict"), { ifname: "eth0", netns: hosts.server.path, mode: "native" });
    expect(link.mode).toBe("native");
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("native");
    expect(link.progId).toBe(coll.program("xdp_verdict").id);

    expect(await pingOk(hosts)).toBe(true);
    expect(await tcpExchange(hosts, 18080)).toBe("hello over tcp\n");
    const seenWhilePassing = counts.sumU64(u32Key(0))![0]!;
    expect(seenWhilePassing).toBeGreaterThanOrEqual(4n);  // 2 echo requests + TCP handshake and data

    coll.setGlobal("drop_all", 1);
    expect(await pingOk(hosts)).toBe(false);
    expect(await tcpExchange(hosts, 18081)).toBe("");
    expect(counts.sumU64(u32Key(0))![0]!).toBeGreaterThan(seenWhilePassing);

    link.close();
    link.close();
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("none");
    expect(await pingOk(hosts, 1)).toBe(true);
  });

  test("generic mode is used when asked, and reported", () => {
    using hosts = twoHosts();
    using coll = Collection.load(BASIC);
    using link = XdpLink.attach(coll.program("xdp_verdict"), { ifname: "eth0", netns: hosts.server.path, mode: "generic" });
    expect(link.mode).toBe("generic");
  });

  test("a pinned link keeps the program attached after close, until detached", () => {
    using hosts = twoHosts();
    using pins = new PinDir("link");
    using coll = Collection.load(BASIC, { constants: { cfg_verdict: XdpAction.PASS } });
    const link = XdpLink.attach(coll.program("xdp_verdict"), { ifname: "eth0", netns: hosts.server.path, mode: "native" });
    link.pin(pins.join("link"));
    link.close();
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("native");
    using adopted = XdpLink.fromPin(pins.join("link"));
    expect(adopted.progId).toBe(coll.program("xdp_verdict").id);
    adopted.detach();
    adopted.unpin();
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("none");
  });

  test("a re-adopted link reports its mode and swaps in another program in place", () => {
    using hosts = twoHosts();
    using pins = new PinDir("link");
    using a = Collection.load(BASIC, { constants: { cfg_verdict: XdpAction.PASS } });
    using b = Collection.load(BASIC, { constants: { cfg_verdict: XdpAction.PASS } });
    const link = XdpLink.attach(a.program("xdp_verdict"), { ifname: "eth0", netns: hosts.server.path, mode: "native" });
    link.pin(pins.join("link"));
    link.close();
    using adopted = XdpLink.fromPin(pins.join("link"), { netns: hosts.server.path });
    expect(adopted.mode).toBe("native");
    expect(adopted.pinnedAt).toBe(pins.join("link"));
    adopted.update(b.program("xdp_verdict"));
    expect(adopted.progId).toBe(b.program("xdp_verdict").id);
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).progId).toBe(b.program("xdp_verdict").id);
    adopted.detach();
    adopted.unpin();
    expect(xdpQuery({ ifname: "eth0", netns: hosts.server.path }).mode).toBe("none");
  });

  test("a missing interface is a clear error", () => {
    using hosts = twoHosts();
    using coll = Collection.load(BASIC);
    expect(() => XdpLink.attach(coll.program("xdp_verdict"), { ifname: "nope0", netns: hosts.server.path, mode: "native" })).toThrow(/interface nope0/);
  });
});
