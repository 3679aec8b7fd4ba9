// Throughput on a veth pair between two namespaces (names "xidsb..."; addresses 198.18.10.0/24):
// iperf3 TCP and an iperf3 UDP small-packet rate, with the server's interface bare, with a bare
// XDP_PASS program attached natively (what native XDP on veth costs by itself), and with xids
// attached natively. Runs are bounded (-t), interleaved, and the median is reported. Every
// namespace is removed on the way out, on error and on SIGINT/SIGTERM too.
import { Collection, XdpLink } from "../native/index.ts";
import { DataPlane } from "../core/ebpf/dataplane.ts";
import { ModelSlots } from "../plugins/models/kernel/model-slots.ts";
import { kernelModelOf } from "../plugins/models/kernel/probes.ts";
import { execSync } from "../test/harness/exec.ts";
import { setNamePrefix, twoHosts, type TwoHosts } from "../test/harness/netns.ts";
import { loadArtifact } from "../models/index.ts";
import { join } from "node:path";
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
  note: string | null;
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

async function iperf(hosts: TwoHosts, port: number, udp: boolean, seconds: number): Promise<number> {
  const server = hosts.server.spawn(["iperf3", "-s", "-1", "-p", String(port)]);
  try {
    // Wait for the listener (bounded).
    for (let i = 0; i < 50; i++) {
      const ss = hosts.server.execSync(["ss", "-ltnH", `sport = :${port}`], { allowFail: true }).stdout;
      if (ss.trim()) break;
      await Bun.sleep(20);
    }
    const args = ["iperf3", "-c", hosts.serverIp, "-p", String(port), "-t", String(seconds), "-J"];
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
  if (!iperf3Available()) {
    return { xdp_mode: null, tcp_bps: empty(), udp_pps: empty(), throughput_ratio: null, throughput_ratio_vs_xdp_pass: null, pps_ratio: null, pps_ratio_vs_xdp_pass: null, tcp_spread: { none: null, xdp_pass: null, xids: null }, udp_spread: { none: null, xdp_pass: null, xids: null }, note: "iperf3 is not installed" };
  }
  removeStaleNamespaces();
  setNamePrefix(NS_PREFIX);
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
  try {
    hosts = twoHosts({ clientIp: "198.18.10.1", serverIp: "198.18.10.2" });
    const h = hosts;
    const modes: Mode[] = ["none", "xdp_pass", "xids"];
    let port = 5301;
    for (let r = 0; r < opts.runs; r++) {
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(i + r) % modes.length]!;
        const prog = mode === "xids" ? dp.xdp : mode === "xdp_pass" ? base.program("bench_xdp_pass") : null;
        const link = prog ? XdpLink.attach(prog, { ifname: h.link.b.ifname, netns: h.server.path, mode: "native" }) : null;
        try {
          if (link) xdpMode = link.mode;
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
    note: null,
  };
}
