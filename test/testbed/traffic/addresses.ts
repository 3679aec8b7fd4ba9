// How each kind of tool wants the victim's address written. IPv4 addresses pass through as they
// are (the IPv4 testbed's commands stay exactly what they were); an IPv6 address is bracketed
// where it sits next to a port or a path (URLs, scp/rsync/sftp targets) and bare where a tool
// takes it alone (ssh, dig, nmap, iperf3, ntpdig).
import type { ScenarioContext } from "../scenario.ts";

/** An address as the host part of a URL or of host:port: [2001:2:0:10::1] or 198.18.10.1. */
export function urlHost(ip: string): string {
  return ip.includes(":") ? `[${ip}]` : ip;
}

/** `user@host` for scp, sftp and rsync, whose ':' separates the path: the host bracketed for IPv6. */
export function remoteTarget(user: string, ip: string): string {
  return `${user}@${urlHost(ip)}`;
}

/**
 * curl's -g (--globoff) in an IPv6 run: its URL globbing would read the address's brackets as a
 * range. Nothing for IPv4, whose commands are unchanged.
 */
export function curlGlobOff(ctx: Pick<ScenarioContext, "family">): string[] {
  return ctx.family === 6 ? ["-g"] : [];
}

/** A tool's own IPv6 switch (nmap -6, hydra -6) in an IPv6 run, nothing for IPv4. */
export function ipv6Flag(ctx: Pick<ScenarioContext, "family">): string[] {
  return ctx.family === 6 ? ["-6"] : [];
}
