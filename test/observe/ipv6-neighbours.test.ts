// IPv6 on: a benign client's kernel-made link traffic is never an attack. For 60 s the client
// namespace makes the neighbour traffic any IPv6 host makes, toward a server whose veth runs a real
// agent with the built-in defaults (no `plugins` key: the shipped in-kernel MLP, the default block
// policy, XDP drop, the alert log): ping6 to the server's link-local (%eth0) and global address,
// neighbour solicitations (the caches flushed between rounds), neighbour advertisements (answers to
// the server's solicitations), duplicate address detection (addresses added and removed), MLDv2
// reports (groups joined and left) and router solicitations (link down/up). A capture on the
// server's eth0 proves each kind arrived. Then: the data plane made IPv6 flows of it and the kernel
// classified some of them (so nothing passes vacuously), no flow from any client address
// (link-local, global, the unspecified DAD source) got an in-kernel ATTACK verdict, the core made
// no detection, nothing is blocked, and blocking the client's fe80:: address by hand is refused as
// link-local.
import { expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl, rpcMessage } from "../../client/control.ts";
import type { WatchEvent } from "../../proto/gen/xids/control/v1/control.ts";
import { type FlowRecord, Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { FEATURE_NAMES } from "../../plugins/extractors/xdp/features.ts";
import { type Netns, twoHosts } from "../harness/netns.ts";
import { BUN, Proc, REPO, TempDir, waitFor } from "../core/util.ts";

/** How long the client makes traffic, and the rounds it is made in (bounded either way). */
const TRAFFIC_MS = 60_000;
const ROUND_MS = 3_000;
const MAX_ROUNDS = 25;
/** Every FLAP_EVERY-th round ends with the client's link down and up (router solicitations). */
const FLAP_EVERY = 5;

const TOOLS = ["ip", "ping", "sysctl", "tshark", "nsenter"];

/** The ICMPv6 types this test makes and looks for on the wire. */
const ICMP6 = { echoRequest: 128, echoReply: 129, rs: 133, ns: 135, na: 136, mld2: 143 } as const;
const TYPE_NAMES: Record<number, string> = { 128: "echo request", 129: "echo reply", 133: "RS", 134: "RA", 135: "NS", 136: "NA", 143: "MLDv2 report" };

/** The link-local address of eth0 once duplicate address detection is over (not tentative). */
async function linkLocal(ns: Netns): Promise<string> {
  return waitFor(
    `the link-local address of eth0 in ${ns.name}`,
    () => {
      const line = ns.execSync(["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]).stdout.trim();
      if (line === "" || line.includes("tentative")) return null;
      return /inet6 (fe80:[0-9a-f:]+)\/64/.exec(line)?.[1] ?? null;
    },
    10_000,
    50,
  );
}

/** Joins an IPv6 multicast group on eth0 for `holdMs` and leaves it (a socket's IPV6_JOIN_GROUP:
 *  the kernel sends the MLDv2 reports). Throws if the join or the leave fails. */
const joinGroup = (ns: Netns, group: string, holdMs: number) =>
  ns.exec(
    [BUN, "-e", `const s = require("node:dgram").createSocket({ type: "udp6" });
s.bind(0, () => { s.addMembership(${JSON.stringify(group)}, "::%eth0");
  setTimeout(() => { s.dropMembership(${JSON.stringify(group)}, "::%eth0"); s.close(); }, ${holdMs}); });`],
    { timeoutMs: 10_000 },
  );

const ping = (ns: Netns, target: string, count: number) =>
  ns.exec(["ping", "-6", "-n", "-q", "-c", String(count), "-i", "0.2", "-W", "1", target], { allowFail: true, timeoutMs: 5_000 });

/** What a flow toward `dst` carries, from its destination (ICMPv6 flows have ports 0). */
function kindOf(r: FlowRecord): string {
  if (r.protocol !== 58) return `protocol ${r.protocol}`;
  if (r.dstAddr === "ff02::16") return "MLDv2 reports (to ff02::16)";
  if (r.dstAddr === "ff02::2") return "router solicitations (to ff02::2)";
  if (r.dstAddr.startsWith("ff02::1:ff")) return r.srcAddr === "::" ? "DAD neighbour solicitations (from ::)" : "neighbour solicitations (solicited-node)";
  if (r.dstAddr.startsWith("ff")) return `multicast (to ${r.dstAddr})`;
  return "unicast (echo, NA, NUD NS)";
}

test("IPv6 on: a benign client's RS/NS/NA/MLD/ping6 for 60 s: nothing classified attack, nothing blocked", async () => {
  // No skip paths: a missing tool fails here, by name.
  for (const t of TOOLS) expect(Bun.which(t), `${t} is needed (scripts/setup.sh installs it)`).not.toBeNull();

  using hosts = twoHosts();
  using dir = new TempDir();
  const { client, server } = hosts;
  // The client keeps its global address over a link flap (it would be flushed on down). Router
  // solicitation is the kernel's default: each time the link comes up, one RS within a second,
  // then 4 s, 8 s, ... apart, for as long as no router answers.
  client.execSync(["sysctl", "-q", "-w", "net.ipv6.conf.eth0.keep_addr_on_down=1"]);
  const serverLL = await linkLocal(server);
  const clientLL = await linkLocal(client);

  // The agent with its built-in defaults: only where to attach and where to answer.
  const sock = dir.file("ctl.sock");
  const cfg = dir.file("xids.yaml");
  writeFileSync(cfg, `dataplane: { interfaces: [eth0], netns: ${server.name}, state_dir: ${dir.path} }\ncontrol: { socket: ${sock} }\n`);
  using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", cfg]);
  const c = connectControl({ socket: sock, timeoutMs: 5_000 });
  let capture: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
  let stream: ReturnType<typeof c.watch> | undefined;
  try {
    await waitFor("the agent", async () => existsSync(sock) && (await c.status()).state === "running", 30_000, 50);
    const status = await c.status();
    expect([status.interface, status.xdpMode, status.model]).toEqual(["eth0", "native", "kernel-mlp"]);
    expect(status.modelVersion).toBeGreaterThan(0);
    // The built-in plugin set (core/config/config.ts DEFAULT_PLUGINS), all running.
    expect(status.plugins.map((p) => [p.id, p.state])).toEqual(expect.arrayContaining([["xdp", "running"], ["kernel-mlp", "running"], ["xdp-drop", "running"], ["alert-log", "running"]]));

    // Every flow record and every detection, as they happen.
    const flows: FlowRecord[] = [];
    const detections: Detection[] = [];
    let lost = 0;
    let watchError: string | null = null;
    stream = c.watch(
      { detections: true, flows: true },
      (ev: WatchEvent) => {
        if (ev.event?.$case === "flow") flows.push(ev.event.value);
        else if (ev.event?.$case === "detection") detections.push(ev.event.value);
        else if (ev.event?.$case === "lost") lost += Number(ev.event.value.count);
      },
      (err) => {
        if (err && !String(err.details).includes("Cancelled")) watchError = rpcMessage(err);
      },
    );
    await waitFor("the watch client", async () => Number((await c.getStats()).watchClients) === 1, 5_000);

    // What reaches the server's eth0 (XDP passes it, so the socket sees it): ICMPv6 source,
    // destination, type. tshark stops by itself after 100 s at the latest.
    const cap = server.spawn(["tshark", "-a", "duration:100", "-i", "eth0", "-n", "-l", "-f", "ip6", "-Y", "icmpv6", "-T", "fields", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "icmpv6.type"]);
    capture = cap;
    const wireText = new Response(cap.stdout).text();
    let captureErr = "";
    const captureErrDone = (async () => {
      for await (const chunk of cap.stderr) captureErr += new TextDecoder().decode(chunk);
    })();
    await waitFor("tshark to capture", () => captureErr.includes("Capturing on"), 15_000, 50);

    // The client's traffic, in rounds.
    const made = { rounds: 0, flaps: 0, pingsOk: 0, pingsFailed: 0, serverPingsOk: 0, groups: 0, dadAddrs: 0 };
    let pendingAddr: string | null = null;
    const end = Date.now() + TRAFFIC_MS;
    for (let i = 0; i < MAX_ROUNDS && Date.now() < end - ROUND_MS / 2; i++) {
      const roundEnd = Math.min(Date.now() + ROUND_MS, end);
      made.rounds++;
      const flush = () => {
        client.execSync(["ip", "-6", "neigh", "flush", "dev", "eth0"]);
        server.execSync(["ip", "-6", "neigh", "flush", "dev", "eth0"]);
      };
      // A new address with duplicate address detection (NS from ::, an MLD report for its
      // solicited-node group); removed next round (another report).
      const addr = `2001:2::10:${(i + 1).toString(16)}`;
      client.execSync(["ip", "-6", "addr", "add", `${addr}/64`, "dev", "eth0"]);
      made.dadAddrs++;
      if (pendingAddr) client.execSync(["ip", "-6", "addr", "del", `${pendingAddr}/64`, "dev", "eth0"]);
      pendingAddr = addr;
      // The server solicits the client (empty caches): the client answers with NA and an echo reply.
      flush();
      if ((await ping(server, i % 2 === 0 ? hosts.clientIp6 : `${clientLL}%eth0`, 1)).code === 0) made.serverPingsOk++;
      // The client solicits the server (empty caches again) and pings it, link-local and global.
      flush();
      for (const target of [`${serverLL}%eth0`, hosts.serverIp6]) {
        if ((await ping(client, target, 2)).code === 0) made.pingsOk++;
        else made.pingsFailed++;
      }
      // A multicast group joined and left: MLDv2 reports.
      await joinGroup(client, `ff05::1:${(0x100 + i).toString(16)}`, 400);
      made.groups++;
      // Link down and up: router solicitations, DAD of the link-local address, MLD reports.
      if (i % FLAP_EVERY === FLAP_EVERY - 1) {
        client.execSync(["ip", "link", "set", "eth0", "down"]);
        await Bun.sleep(200);
        client.execSync(["ip", "link", "set", "eth0", "up"]);
        made.flaps++;
        expect(await linkLocal(client)).toBe(clientLL);
      }
      const rest = roundEnd - Date.now();
      if (rest > 0) await Bun.sleep(rest);
    }
    if (pendingAddr) client.execSync(["ip", "-6", "addr", "del", `${pendingAddr}/64`, "dev", "eth0"]);
    console.log(`traffic: ${JSON.stringify(made)}`);

    // Every flow ends (idle 2 s) and reaches the core; then the capture stops.
    await waitFor(
      "every flow to end and reach the core",
      async () => {
        const s = await c.getStats();
        const d = s.dataplane;
        return (d.flows_started ?? 0) > 0 && d.flows_started === d.flows_ended && Number(s.flowsReceived) === flows.length && Number(s.flowsClassified) + Number(s.flowsUnclassified) === flows.length;
      },
      10_000,
      100,
    );
    cap.kill("SIGINT");
    const wire = (await wireText).trim().split("\n").filter(Boolean).map((l) => {
      const [src, dst, type] = l.split("\t");
      return { src: src!, dst: dst!, type: Number(type) };
    });
    await cap.exited;
    await captureErrDone;
    capture = undefined;

    // The capture: each kind of traffic really arrived from the client (the server's own packets
    // leave through eth0 too; they are not what XDP sees, so they are left out).
    const serverAddrs = new Set([serverLL, hosts.serverIp6]);
    const fromClient = wire.filter((p) => !serverAddrs.has(p.src));
    const count = (type: number, src?: (s: string) => boolean) => fromClient.filter((p) => p.type === type && (!src || src(p.src))).length;
    const byType: Record<string, number> = {};
    for (const p of fromClient) byType[TYPE_NAMES[p.type] ?? String(p.type)] = (byType[TYPE_NAMES[p.type] ?? String(p.type)] ?? 0) + 1;
    console.log(`on the wire from the client: ${JSON.stringify(byType)}; sources ${JSON.stringify([...new Set(fromClient.map((p) => p.src))])}`);
    const rounds = made.rounds;
    expect(rounds).toBeGreaterThanOrEqual(15);
    expect(made.pingsOk, `pings from the client: ${JSON.stringify(made)}`).toBeGreaterThanOrEqual(2 * rounds - 2 * made.flaps);
    expect(made.serverPingsOk).toBeGreaterThanOrEqual(rounds - made.flaps);
    expect(count(ICMP6.echoRequest, (s) => s === clientLL)).toBeGreaterThanOrEqual(rounds);
    expect(count(ICMP6.echoRequest, (s) => s === hosts.clientIp6)).toBeGreaterThanOrEqual(rounds);
    expect(count(ICMP6.echoReply)).toBeGreaterThanOrEqual(rounds - made.flaps);
    expect(count(ICMP6.ns, (s) => s !== "::")).toBeGreaterThanOrEqual(rounds);
    expect(count(ICMP6.ns, (s) => s === "::")).toBeGreaterThanOrEqual(rounds);
    expect(count(ICMP6.na)).toBeGreaterThanOrEqual(rounds - made.flaps);
    expect(count(ICMP6.mld2)).toBeGreaterThanOrEqual(2 * rounds);
    expect(count(ICMP6.rs)).toBeGreaterThanOrEqual(made.flaps);

    // The data plane made IPv6 flows of it, and the kernel model judged some: not vacuous.
    await Bun.sleep(300); // a detection made from the last records reaches the watch stream
    const stats = await c.getStats();
    const d = stats.dataplane;
    const v6 = flows.filter((r) => r.family === 6);
    const judged = v6.filter((r) => r.kernelVerdict !== Verdict.VERDICT_NONE);
    const attacks = flows.filter((r) => r.kernelVerdict === Verdict.VERDICT_ATTACK);
    const sources = [...new Set(v6.map((r) => r.srcAddr))];
    console.log(
      `flows: ${flows.length} (IPv6 ${v6.length}) from ${JSON.stringify(sources)}; kernel verdicts: ${judged.length} ` +
        `(benign ${d.verdict_benign ?? 0}, attack ${d.verdict_attack ?? 0}); detections ${stats.detections}; blocks ${stats.blocks} (kernel ${d.blocks_added ?? 0})`,
    );
    // Per kind: flows, kernel verdicts, attacks, and the highest score (logit1 - logit0; > 0 is ATTACK).
    const kinds = new Map<string, { flows: number; judged: number; attack: number; maxScore: number }>();
    for (const r of v6) {
      const k = kinds.get(kindOf(r)) ?? { flows: 0, judged: 0, attack: 0, maxScore: -Infinity };
      k.flows++;
      if (r.kernelVerdict !== Verdict.VERDICT_NONE) {
        k.judged++;
        k.maxScore = Math.max(k.maxScore, r.kernelScore);
      }
      if (r.kernelVerdict === Verdict.VERDICT_ATTACK) k.attack++;
      kinds.set(kindOf(r), k);
    }
    for (const [k, v] of kinds) console.log(`  ${k}: ${v.flows} flows, ${v.judged} judged, ${v.attack} attack${v.judged ? `, max score ${v.maxScore}` : ""}`);
    const [nPkts, lenMax, lenMin] = ["Total Fwd Packet", "Fwd Packet Length Max", "Fwd Packet Length Min"].map((n) => FEATURE_NAMES.indexOf(n as (typeof FEATURE_NAMES)[number]));
    // Each attack flow by source, destination, kind, the ICMPv6 types seen on the wire between
    // that pair (over the whole run), packets and payload lengths: how many, and the top score.
    const attackSummary: Record<string, string> = {};
    const attackGroups = new Map<string, { n: number; maxScore: number }>();
    for (const r of attacks) {
      const onWire = [...new Set(fromClient.filter((p) => p.src === r.srcAddr && p.dst === r.dstAddr).map((p) => TYPE_NAMES[p.type] ?? String(p.type)))].join("+");
      const key = `${r.srcAddr} -> ${r.dstAddr}: ${kindOf(r)} [on the wire: ${onWire}] ${r.features[nPkts!]} pkt(s), payload ${r.features[lenMin!]}..${r.features[lenMax!]}`;
      const g = attackGroups.get(key) ?? { n: 0, maxScore: -Infinity };
      g.n++;
      g.maxScore = Math.max(g.maxScore, r.kernelScore);
      attackGroups.set(key, g);
    }
    for (const [k, g] of attackGroups) attackSummary[k] = `${g.n} flow(s), max score ${g.maxScore}`;
    if (attacks.length > 0) console.log(`in-kernel ATTACK verdicts (${attacks.length}):\n${Object.entries(attackSummary).map(([k, v]) => `  ${k}: ${v}`).join("\n")}`);

    expect(watchError).toBeNull();
    expect(lost).toBe(0);
    expect(Number(stats.ringbufLost)).toBe(0);
    expect(d.flows_started ?? 0).toBeGreaterThan(0);
    expect(Number(stats.flowsReceived)).toBe(flows.length);
    expect(v6.length).toBeGreaterThan(0);
    expect(sources).toEqual(expect.arrayContaining([clientLL, hosts.clientIp6, "::"]));
    expect(judged.length).toBeGreaterThan(0);
    expect((d.verdict_benign ?? 0) + (d.verdict_attack ?? 0)).toBeGreaterThan(0);

    // Nothing from the client is an attack, nothing was detected, nothing is blocked.
    expect(attackSummary).toEqual({});
    expect(d.verdict_attack ?? 0).toBe(0);
    expect(detections.map((x) => `${x.record?.srcAddr} -> ${x.record?.dstAddr} ${x.detector} ${x.action}`)).toEqual([]);
    expect(Number(stats.detections)).toBe(0);
    expect(agent.out.split("\n").filter((l) => l.includes('"event_type":"alert"'))).toEqual([]);
    expect(Number(stats.blocks)).toBe(0);
    expect(d.blocks_added ?? 0).toBe(0);
    expect(d.drop_blocked ?? 0).toBe(0);
    expect((await c.listBlocked()).hosts).toEqual([]);

    // And the client's link-local address cannot be blocked by hand either.
    const refused = await c.block(clientLL, 60, 1).then(
      () => null,
      (err: unknown) => rpcMessage(err),
    );
    expect(refused).toStartWith("FAILED_PRECONDITION: ");
    expect(refused).toContain(`${clientLL} is a link-local address`);
    expect((await c.listBlocked()).hosts).toEqual([]);
  } finally {
    if (capture) {
      // SIGINT lets tshark stop its dumpcap child; SIGKILL if it does not exit.
      capture.kill("SIGINT");
      const t = setTimeout(() => capture?.kill("SIGKILL"), 3_000);
      await capture.exited;
      clearTimeout(t);
    }
    stream?.cancel();
    c.close();
    agent.proc.kill("SIGTERM");
    await agent.exited(10_000);
  }
}, 95_000);
