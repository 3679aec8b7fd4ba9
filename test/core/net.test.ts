import { describe, expect, test } from "bun:test";
import { grpcAddressError, ipError, parseCidr, parseIp } from "../../core/util/net.ts";

describe("addresses", () => {
  test("host addresses parse strictly and print canonically (RFC 5952)", () => {
    expect(parseIp("198.18.0.1")?.text).toBe("198.18.0.1");
    expect(parseIp("2001:0002:0000:0000:0000:0000:0000:0009")?.text).toBe("2001:2::9");
    expect(parseIp("2001:db8:0:0:1:0:0:1")?.text).toBe("2001:db8::1:0:0:1");
    expect(parseIp("::")?.text).toBe("::");
    expect(Array.from(parseIp("2001:2::1")!.bytes)).toEqual([0x20, 0x01, 0, 2, ...new Array(11).fill(0), 1]);
    for (const bad of ["198.18.0", "198.18.0.256", "01.2.3.4x", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "host", ""]) expect(parseIp(bad)).toBeNull();
    expect(ipError("198.18.0.0/15")).toBe("a host address has no prefix length");
  });

  test("CIDRs clear host bits and check the prefix length", () => {
    expect(parseCidr("198.18.7.7/15")).toMatchObject({ cidr: "198.18.0.0/15", prefixLen: 15, family: 4 });
    expect(parseCidr("2001:2:0:ffff::1/48")).toMatchObject({ cidr: "2001:2::/48", family: 6 });
    expect(parseCidr("198.18.0.1")).toMatchObject({ cidr: "198.18.0.1/32" });
    expect(parseCidr("198.18.0.0/33")).toEqual({ error: "prefix length must be an integer in [0, 32], got '33'" });
    expect(parseCidr("2001:2::/-1")).toEqual({ error: "prefix length must be an integer in [0, 128], got '-1'" });
  });

  test("gRPC addresses", () => {
    expect(grpcAddressError("unix:/run/x.sock")).toBeNull();
    expect(grpcAddressError("unix:///run/x.sock")).toBeNull();
    expect(grpcAddressError("127.0.0.1:7000")).toBeNull();
    expect(grpcAddressError("[::1]:7000")).toBeNull();
    expect(grpcAddressError("unix:x.sock")).toBe("a unix address needs an absolute path (unix:/path/to.sock)");
    expect(grpcAddressError(`unix:/${"a".repeat(120)}`)).toBe("unix socket paths are limited to 107 bytes");
    expect(grpcAddressError("127.0.0.1:0")).toBe("port must be in [1, 65535], got 0");
    expect(grpcAddressError("127.0.0.1:0", { allowPort0: true })).toBeNull();
    expect(grpcAddressError("http://x")).toBe("not of the form unix:/path or host:port");
  });
});
