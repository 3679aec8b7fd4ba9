// Starts the victim's DNS and NTP servers (dns-ntp-server.ts) with this Bun binary inside the
// victim namespace: DNS on udp/tcp 53, NTP on udp 123, the usual ports, so benign UDP clients
// look like a company's resolver and time server traffic. Readiness is the TCP DNS listener,
// which the script opens only after both UDP sockets are bound.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Netns } from "../../harness/netns.ts";
import type { DnsNtpConfig } from "./dns-ntp-server.ts";
import { startListeningService, type ServiceProcess } from "./process.ts";

export const DNS_PORT = 53;
export const NTP_PORT = 123;

/** With `ipv6` the servers listen on [::] as well as 0.0.0.0. */
export async function startDnsNtp(victim: Netns, dir: string, ipv6 = false): Promise<ServiceProcess> {
  const configFile = join(dir, "dns-ntp.json");
  const config: DnsNtpConfig = { dnsPort: DNS_PORT, ntpPort: NTP_PORT, ...(ipv6 ? { ipv6 } : {}) };
  writeFileSync(configFile, JSON.stringify(config));
  const argv = [process.execPath, join(import.meta.dir, "dns-ntp-server.ts"), configFile];
  return startListeningService(victim, { name: "dns/ntp", argv, logFile: join(dir, "dns-ntp.log"), port: DNS_PORT, ipv6 });
}
