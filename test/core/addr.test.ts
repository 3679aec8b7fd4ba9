import { describe, expect, test } from "bun:test";
import { formatIp, parseCidr, parseIp } from "../../core/ebpf/addr.ts";

describe("addresses", () => {
  test("IPv4 and IPv6 round trips (RFC 5952 output)", () => {
    for (const s of ["198.18.0.1", "0.0.0.0", "2001:2::1", "::", "::1", "2001:2:0:1::7", "fe80::1:0:0:2", "2001:db8:1:2:3:4:5:6"]) {
      const a = parseIp(s);
      expect(formatIp(a.family, a.bytes)).toBe(s);
    }
    expect(formatIp(6, parseIp("2001:0002:0000:0000:0000:0000:0000:0001").bytes)).toBe("2001:2::1");
    // An IPv4-mapped IPv6 address is that IPv4 host (one address, one block entry).
    const mapped = parseIp("::ffff:198.18.0.1");
    expect([mapped.family, Array.from(mapped.bytes)]).toEqual([4, [198, 18, 0, 1]]);
    expect(parseIp("::ffff:c612:1").family).toBe(4);
  });

  test("bad input is rejected with the reason", () => {
    for (const s of ["198.18.0", "198.18.0.256", "1::2::3", "2001:2:::1", "gggg::1", "1:2:3:4:5:6:7:8:9", ""]) {
      expect(() => parseIp(s)).toThrow(/not an IPv4 or IPv6 address/);
    }
    expect(() => parseCidr("198.18.0.0/33")).toThrow(/prefix/);
    expect(parseCidr("2001:2::/48").prefixLen).toBe(48);
    expect(parseCidr("198.18.0.1").prefixLen).toBe(32);
  });
});
