// iperf3's server on port 5201 in the victim namespace (one test at a time, as iperf3 serves).
import { join } from "node:path";
import type { Netns } from "../../harness/netns.ts";
import { startListeningService, type ServiceProcess } from "./process.ts";

export const IPERF_PORT = 5201;

/** iperf3 -s listens dual-stack on [::] already; `ipv6` only adds the IPv6 readiness check. */
export async function startIperf(victim: Netns, dir: string, ipv6 = false): Promise<ServiceProcess> {
  // --rcv-timeout: a client that vanishes mid-test frees the server after 10 s instead of 120 s.
  const argv = ["iperf3", "-s", "-p", String(IPERF_PORT), "--rcv-timeout", "10000", "--forceflush"];
  return startListeningService(victim, { name: "iperf3", argv, logFile: join(dir, "iperf3.log"), port: IPERF_PORT, ipv6 });
}
