// The allow-list rule user space applies before it blocks: a source inside any allowed CIDR is
// never blocked (the kernel applies the same rule to its own verdicts).
import { cidrContains, parseCidr, type IpAddr } from "../util/net.ts";

export function allowListedIn(cidrs: Iterable<string>, addr: IpAddr): string | null {
  for (const c of cidrs) {
    const cidr = parseCidr(c);
    if (!("error" in cidr) && cidrContains(cidr, addr)) return c;
  }
  return null;
}
