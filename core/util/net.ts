// Address parsing shared by the config, the control API and the data-plane adapter. Strict:
// anything that is not exactly an IPv4 dotted quad, an IPv6 address or a CIDR of one is rejected
// with the reason, and every accepted form has one canonical text (RFC 5952 for IPv6).
import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";

export interface IpAddr {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
  /** Canonical text. */
  text: string;
}

export interface Cidr extends IpAddr {
  prefixLen: number;
  /** Canonical "addr/len" with the host bits cleared. */
  cidr: string;
}

export function parseIp(text: string): IpAddr | null {
  // node:net is the strict gate (no "1.2.3", no zone ids); ipaddr.js gives bytes and RFC 5952 text.
  if (!isIPv4(text) && !(isIPv6(text) && !text.includes("%"))) return null;
  let ip = ipaddr.parse(text);
  // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 host: one address, one entry.
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const bytes = Uint8Array.from(ip.toByteArray());
  return { family: ip.kind() === "ipv4" ? 4 : 6, bytes, text: formatIp(ip.kind() === "ipv4" ? 4 : 6, bytes) };
}

const NEVER_BLOCK: [string, string][] = [
  ["0.0.0.0/8", "an unspecified (this-network) address"],
  ["127.0.0.0/8", "a loopback address"],
  ["169.254.0.0/16", "a link-local address"],
  ["224.0.0.0/4", "a multicast address"],
  ["255.255.255.255/32", "the broadcast address"],
  ["::/128", "the unspecified address"],
  ["::1/128", "the loopback address"],
  ["fe80::/10", "a link-local address (neighbour discovery and routers use these)"],
  ["ff00::/8", "a multicast address"],
];

/** Why `addr` is never a source to block (loopback, link-local, multicast, ...), or null. */
export function neverBlockReason(addr: IpAddr): string | null {
  for (const [c, why] of NEVER_BLOCK) if (cidrContains(parseCidr(c) as Cidr, addr)) return why;
  return null;
}

export function formatIp(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`; // fast: a 100k block list is read in one go
  return (ipaddr.fromByteArray(Array.from(bytes.subarray(0, 16))) as ipaddr.IPv6).toRFC5952String();
}

/** Why `text` is not a host address, or null if it is one. */
export function ipError(text: string): string | null {
  if (text === "") return "empty address";
  if (text.includes("/")) return "a host address has no prefix length";
  return parseIp(text) ? null : "not an IPv4 or IPv6 address";
}

export function parseCidr(text: string): Cidr | { error: string } {
  const slash = text.indexOf("/");
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) return { error: `'${addrText}' is not an IPv4 or IPv6 address` };
  const max = ip.family === 4 ? 32 : 128;
  let prefixLen = max;
  if (slash !== -1) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      return { error: `prefix length must be an integer in [0, ${max}], got '${lenText}'` };
    }
    prefixLen = Number(lenText);
  }
  const bytes = ip.bytes.slice();
  for (let bit = prefixLen; bit < max; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const addr = formatIp(ip.family, bytes);
  return { family: ip.family, bytes, text: addr, prefixLen, cidr: `${addr}/${prefixLen}` };
}

/** "unix:/path", "unix:///path", or "host:port" (IPv6 hosts in brackets). Null if valid. */
export function grpcAddressError(address: string, opts: { allowPort0?: boolean } = {}): string | null {
  if (address.startsWith("unix:")) {
    const path = address.startsWith("unix://") ? address.slice(7) : address.slice(5);
    if (!path.startsWith("/")) return "a unix address needs an absolute path (unix:/path/to.sock)";
    if (Buffer.byteLength(path) > 107) return "unix socket paths are limited to 107 bytes";
    return null;
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  if (!m) return "not of the form unix:/path or host:port";
  const port = Number(m[2]);
  const min = opts.allowPort0 ? 0 : 1;
  if (port < min || port > 65535) return `port must be in [${min}, 65535], got ${port}`;
  return null;
}

/** True when `addr` lies inside `cidr` (same family, first prefixLen bits equal). */
export function cidrContains(cidr: Cidr, addr: IpAddr): boolean {
  if (cidr.family !== addr.family) return false;
  const [a, c] = [addr, cidr].map((x) => ipaddr.fromByteArray(Array.from(x.bytes)));
  return a!.match(c!, cidr.prefixLen);
}
