// IP address text <-> bytes for the data plane's block/allow lists and CSV output. One parser
// for the whole product lives in core/util/net.ts (strict, RFC 5952 output); this is the
// throwing form the data plane's callers want.
import { formatIp, parseCidr as parseCidrOrError, parseIp as parseIpOrNull } from "../util/net.ts";

export { formatIp };

export interface ParsedAddr {
  family: 4 | 6;
  bytes: Uint8Array; // 4 or 16
}

export function parseIp(text: string): ParsedAddr {
  const a = parseIpOrNull(text);
  if (!a) throw new Error(`'${text}' is not an IPv4 or IPv6 address`);
  return { family: a.family, bytes: a.bytes };
}

/** "198.18.0.0/15" or a bare address (a /32 or /128). Host bits are kept (callers mask them). */
export function parseCidr(text: string): ParsedAddr & { prefixLen: number } {
  const slash = text.indexOf("/");
  const c = parseCidrOrError(text);
  if ("error" in c) throw new Error(`'${text}': ${c.error}`);
  // Keep the address as written: the LPM code masks host bits itself.
  return { family: c.family, bytes: parseIp(slash === -1 ? text : text.slice(0, slash)).bytes, prefixLen: c.prefixLen };
}
