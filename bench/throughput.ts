// Throughput on a veth pair between two namespaces (names "xidsb..."; addresses 198.18.10.0/24):
// iperf3 TCP and an iperf3 UDP small-packet rate, with the server's interface bare, with a bare
// XDP_PASS program attached natively (what native XDP on veth costs by itself), and with xids
// attached natively. GRO is on on the receiving (server's) veth in every mode: attaching native
// XDP to a veth takes GSO off its peer (veth_xdp_set, drivers/net/veth.c), so the sender
// segments every TCP burst into MTU-sized packets, each run through XDP; GRO on the receiver
// coalesces them again after XDP, as a NIC's GRO would, instead of the stack taking them one by
// one. The bare PASS program is xdp.frags like xids's, so both attach under the same conditions.
// iperf3's client and server are pinned to CPUs 0 and 1. Runs are short and bounded (-t), xids
// and the bare program alternate (ABBA across rounds) and medians of per-round ratios are reported. Every namespace is removed on the way out, on error
// and on SIGINT/SIGTERM too.
import { Collection, XdpLink } from "../native/index.ts";
import { DataPlane } from "../core/ebpf/dataplane.ts";
import { ModelSlots } from "../plugins/models/kernel/model-slots.ts";
import { kernelModelOf } from "../plugins/models/kernel/probes.ts";
import { execSync } from "../test/harness/exec.ts";
import { setNamePrefix, twoHosts, type TwoHosts } from "../test/harness/netns.ts";
import { loadArtifact } from "../models/index.ts";
import { join } from "node:path";
import { cpus } from "node:os";
import { BASELINE_OBJECT } from "./kernel.ts";
import { median } from "./stats.ts";

export const NS_PREFIX = "xidsb";
const REPO = join(import.meta.dir, "..");

export interface ThroughputOptions {
  /** iperf3 -t seconds per run. */
  seconds: number;
  /** Runs per mode and test. */
  runs: number;
  log: (msg: string) => void;
  /** Delete "xidsb" namespaces left by a killed run first (default true; a test sharing the
   *  machine with a running bench passes false and names its namespaces with its own prefix). */
  removeStale?: boolean;
  /** GRO on the receiving veth (default true; false: the kernel's default, off, for comparison). */
  receiverGro?: boolean;
  /** Namespace and interface name prefix (default NS_PREFIX). */
  prefix?: string;
}

type Mode = "none" | "xdp_pass" | "xids";

export interface ThroughputResults {
  xdp_mode: string | null;
  tcp_bps: Record<Mode, number | null>;
  udp_pps: Record<Mode, number | null>;
  /** xids TCP / bare interface TCP (median of per-round ratios) */
  throughput_ratio: number | null;
  /** xids TCP / bare XDP_PASS attached TCP */
  throughput_ratio_vs_xdp_pass: number | null;
  pps_ratio: number | null;
  pps_ratio_vs_xdp_pass: number | null;
  /** [min, max] of the runs per mode */
  tcp_spread: Record<Mode, [number, number] | null>;
  udp_spread: Record<Mode, [number, number] | null>;
  /** xids / bare XDP_PASS per round (the runs of one round are back to back), TCP and UDP. */
  round_ratios_vs_xdp_pass: { tcp: number[]; udp: number[] };
  /** GRO on the receiving veth (checked with ethtool -k after setting it). */
  receiver_gro: boolean | null;
  /** The sender's tcp-segmentation-offload per mode, as ethtool -k shows it during the run
   *  ("on", "off", or null): native XDP on the receiver turns it off. */
  sender_tso: Record<Mode, string | null>;
  /** The bare baseline program (section and name). */
  baseline_program: string;
  note: string | null;
}

export const BASELINE_PROGRAM = "bench_xdp_pass_frags";

/** One offload's state ("on"/"off") from `ethtool -k` in a namespace, or null. */
function offload(ns: TwoHosts["server"], ifname: string, name: string): string | null {
  const out = ns.execSync(["ethtool", "-k", ifname], { allowFail: true }).stdout;
  return new RegExp(`^${name}:\\s+(on|off)`, "m").exec(out)?.[1] ?? null;
}

export function ethtoolAvailable(): boolean {
  return execSync(["sh", "-c", "command -v ethtool"], { allowFail: true }).code === 0;
}

export function iperf3Available(): boolean {
  return execSync(["sh", "-c", "command -v iperf3"], { allowFail: true }).code === 0;
}

/** Removes any namespace left by an earlier bench that died without cleaning up. */
export function removeStaleNamespaces(): void {
  const out = execSync(["ip", "netns", "list"], { allowFail: true }).stdout;
  for (const line of out.split("\n")) {
    const name = line.trim().split(/\s+/)[0];
    if (name?.startsWith(NS_PREFIX)) execSync(["ip", "netns", "del", name], { allowFail: true });
  }
}

/** With two or more CPUs the client runs on CPU 0 and the server on CPU 1 (taskset): left to the
 *  scheduler, whether they (and the softirq work that follows the sender) share a CPU changes
 *  from run to run and splits TCP into two throughput levels far apart, whatever is attached. */
const pin = (cpu: number): string[] => (cpus().length >= 2 ? ["taskset", "-c", String(cpu)] : []);

async function iperf(hosts: TwoHosts, port: number, udp: boolean, seconds: number): Promise<number> {
  const server = hosts.server.spawn([...pin(1), "iperf3", "-s", "-1", "-p", String(port)]);
  try {
    // Wait for the listener (bounded).
    for (let i = 0; i < 50; i++) {
      const ss = hosts.server.execSync(["ss", "-ltnH", `sport = :${port}`], { allowFail: true }).stdout;
      if (ss.trim()) break;
      await Bun.sleep(20);
    }
    const args = [...pin(0), "iperf3", "-c", hosts.serverIp, "-p", String(port), "-t", String(seconds), "-J"];
    if (udp) args.push("-u", "-b", "0", "-l", "64");
    const res = await hosts.client.exec(args, { timeoutMs: (seconds + 15) * 1000, allowFail: true });
    let j: { error?: string; end?: { sum_received?: { bits_per_second: number }; sum?: { packets: number; lost_packets: number; seconds: number } } };
    try {
      j = JSON.parse(res.stdout);
    } catch {
      throw new Error(`iperf3 output is not JSON (exit ${res.code}): ${res.stderr.trim() || res.stdout.slice(0, 200)}`);
    }
    if (j.error) throw new Error(`iperf3: ${j.error}`);
    if (udp) {
      const s = j.end?.sum;
      if (!s || !s.seconds) throw new Error("iperf3 UDP: no summary");
      return (s.packets - s.lost_packets) / s.seconds;
    }
    const bps = j.end?.sum_received?.bits_per_second;
    if (!bps) throw new Error("iperf3 TCP: no receiver summary");
    return bps;
  } finally {
    server.kill("SIGKILL");
    await server.exited;
  }
}

export async function benchThroughput(opts: ThroughputOptions): Promise<ThroughputResults> {
  const { log } = opts;
  const empty = (): Record<Mode, number | null> => ({ none: null, xdp_pass: null, xids: null });
  const missing = [iperf3Available() ? null : "iperf3", ethtoolAvailable() ? null : "ethtool"].filter((x) => x !== null);
  if (missing.length) {
    return {
      xdp_mode: null, tcp_bps: empty(), udp_pps: empty(), throughput_ratio: null, throughput_ratio_vs_xdp_pass: null, pps_ratio: null, pps_ratio_vs_xdp_pass: null,
      tcp_spread: { none: null, xdp_pass: null, xids: null }, udp_spread: { none: null, xdp_pass: null, xids: null },
      round_ratios_vs_xdp_pass: { tcp: [], udp: [] }, receiver_gro: null, sender_tso: { none: null, xdp_pass: null, xids: null }, baseline_program: BASELINE_PROGRAM, note: `${missing.join(" and ")} not installed (scripts/setup.sh)`,
    };
  }
  if (opts.removeStale ?? true) removeStaleNamespaces();
  setNamePrefix(opts.prefix ?? NS_PREFIX);
  let hosts: TwoHosts | null = null;
  const cleanup = () => {
    hosts?.[Symbol.dispose]();
    hosts = null;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  using base = Collection.load(BASELINE_OBJECT);
  using dp = DataPlane.load({ modelAction: "alert" });
  new ModelSlots(dp.coll).activateNow(kernelModelOf(loadArtifact(join(REPO, "models", "artifacts", "mlp-int32"))), 1);
  let xdpMode: string | null = null;
  const tcp: Record<Mode, number[]> = { none: [], xdp_pass: [], xids: [] };
  const udp: Record<Mode, number[]> = { none: [], xdp_pass: [], xids: [] };
  const senderTso: Record<Mode, string | null> = { none: null, xdp_pass: null, xids: null };
  let gro: boolean | null = null;
  try {
    hosts = twoHosts({ clientIp: "198.18.10.1", serverIp: "198.18.10.2" });
    const h = hosts;
    const wantGro = opts.receiverGro ?? true;
    if (wantGro) h.server.execSync(["ethtool", "-K", h.link.b.ifname, "gro", "on"]);
    gro = offload(h.server, h.link.b.ifname, "generic-receive-offload") === "on";
    if (gro !== wantGro) throw new Error(`throughput: GRO is not ${wantGro ? "on" : "off"} on ${h.server.name}/${h.link.b.ifname} (ethtool -k: ${offload(h.server, h.link.b.ifname, "generic-receive-offload")})`);
    let port = 5301;
    for (let r = 0; r < opts.runs; r++) {
      // xids and the bare program back to back, their order swapped every round; no XDP around them.
      const modes: Mode[] = r % 2 === 0 ? ["xids", "xdp_pass", "none"] : ["none", "xdp_pass", "xids"];
      for (const mode of modes) {
        const prog = mode === "xids" ? dp.xdp : mode === "xdp_pass" ? base.program(BASELINE_PROGRAM) : null;
        const link = prog ? XdpLink.attach(prog, { ifname: h.link.b.ifname, netns: h.server.path, mode: "native" }) : null;
        try {
          if (link) xdpMode = link.mode;
          senderTso[mode] ??= offload(h.client, h.link.a.ifname, "tcp-segmentation-offload");
          tcp[mode].push(await iperf(h, port++, false, opts.seconds));
          udp[mode].push(await iperf(h, port++, true, opts.seconds));
          dp.drain(() => {});
        } finally {
          link?.close();
        }
        log(`throughput run ${r + 1}/${opts.runs} ${mode}: tcp ${(tcp[mode].at(-1)! / 1e9).toFixed(2)} Gbit/s, udp 64 B ${Math.round(udp[mode].at(-1)!)} pkt/s`);
      }
    }
  } finally {
    cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const med = (xs: number[]) => (xs.length ? median(xs) : null);
  const tcpBps = { none: med(tcp.none), xdp_pass: med(tcp.xdp_pass), xids: med(tcp.xids) };
  const udpPps = { none: med(udp.none), xdp_pass: med(udp.xdp_pass), xids: med(udp.xids) };
  const sp = (xs: number[]): [number, number] | null => (xs.length ? [Math.min(...xs), Math.max(...xs)] : null);
  // Ratios pair the runs of one round (taken back to back), then take the median: slow drift of
  // the machine's load cancels within a round.
  const ratio = (a: number[], b: number[]) => (a.length && a.length === b.length ? median(a.map((v, i) => v / b[i]!)) : null);
  return {
    xdp_mode: xdpMode,
    tcp_bps: tcpBps,
    udp_pps: udpPps,
    throughput_ratio: ratio(tcp.xids, tcp.none),
    throughput_ratio_vs_xdp_pass: ratio(tcp.xids, tcp.xdp_pass),
    pps_ratio: ratio(udp.xids, udp.none),
    pps_ratio_vs_xdp_pass: ratio(udp.xids, udp.xdp_pass),
    tcp_spread: { none: sp(tcp.none), xdp_pass: sp(tcp.xdp_pass), xids: sp(tcp.xids) },
    udp_spread: { none: sp(udp.none), xdp_pass: sp(udp.xdp_pass), xids: sp(udp.xids) },
    round_ratios_vs_xdp_pass: { tcp: tcp.xids.map((v, i) => v / tcp.xdp_pass[i]!), udp: udp.xids.map((v, i) => v / udp.xdp_pass[i]!) },
    receiver_gro: gro,
    sender_tso: senderTso,
    baseline_program: BASELINE_PROGRAM,
    note: null,
  };
}
