// Address parsing shared by the config, the control API and the data-plane adapter. Strict:
// anything that is not exactly an IPv4 dotted quad, an IPv6 address or a CIDR of one is rejected
// with the reason, and every accepted form has one canonical text (RFC 5952 for IPv6).
import { isIPv4, isIPv6 } from "node:net";

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
  if (isIPv4(text)) {
    const bytes = Uint8Array.from(text.split(".").map(Number));
    return { family: 4, bytes, text: formatIp(4, bytes) };
  }
  if (isIPv6(text) && !text.includes("%")) {
    const bytes = ipv6Bytes(text);
    if (!bytes) return null;
    // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 host: one address, one entry.
    if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
      const v4 = bytes.slice(12);
      return { family: 4, bytes: v4, text: formatIp(4, v4) };
    }
    return { family: 6, bytes, text: formatIp(6, bytes) };
  }
  return null;
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

function ipv6Bytes(text: string): Uint8Array | null {
  let head = text;
  let v4: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const tail = text.slice(lastColon + 1);
    if (!isIPv4(tail)) return null;
    v4 = tail.split(".").map(Number);
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (v4.length === 4) out.set(v4, 12);
  return out;
}

export function formatIp(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) return Array.from(bytes.subarray(0, 4)).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
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
  for (let bit = 0; bit < cidr.prefixLen; bit += 8) {
    const n = Math.min(8, cidr.prefixLen - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((cidr.bytes[bit / 8]! & mask) !== (addr.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}
