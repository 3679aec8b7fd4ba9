import { describe, expect, test } from "bun:test";
import { deriveFeatures, isqrt, sampleVariance, scanPayload, SCAN_WINDOW, type FlowAcc } from "./features.ts";

describe("feature arithmetic", () => {
  test("isqrt is the exact floor square root, also past 2^53", () => {
    for (const x of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 99n, 100n, 101n]) {
      const r = isqrt(x);
      expect(r * r <= x && (r + 1n) * (r + 1n) > x).toBe(true);
    }
    const big = (1n << 64n) - 1n;
    expect(isqrt(big)).toBe(4294967295n);
    expect(isqrt(4294967296n * 4294967296n - 1n)).toBe(4294967295n);
    expect(isqrt((1n << 60n) + 12345n)).toBe(1n << 30n);
  });

  test("sample variance is floor((m·Σx² − (Σx)²)/(m(m−1)))", () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: Σ=40, Σ²=232, m=8 -> (1856-1600)/56 = 4.57 -> 4
    expect(sampleVariance(8n, 40n, 232n)).toBe(4n);
    expect(sampleVariance(1n, 5n, 25n)).toBe(0n);
  });

  test("a one-packet flow has zero spreads and rates", () => {
    const a: FlowAcc = {
      firstUs: 10n, sumP2: 10000n, sumG2: 0n, iatTotal: 0, n: 1, sumP: 100, hdrSum: 8, gapMax: 0, gapMin: 0,
      actData: 1, ackBase: 0, acked: 0, pMax: 100, pMin: 100, initWin: 0, psh: 0, urg: 0, segMin: 8, flags: 0, lineLen: 0, lineMeta: 0, encMeta: 0,
    };
    const f = deriveFeatures(a, 53, 17);
    expect(f.length).toBe(22);
    expect(f.map(Number)).toEqual([53, 17, 1, 100, 100, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 1, 8, 100]);
  });

  test("the first-payload scan: the first line's length and metacharacters, encoded ones in the whole window", () => {
    const scan = (t: string | Uint8Array) => scanPayload(typeof t === "string" ? new TextEncoder().encode(t) : t);
    // Raw " ' ( ) ; < > \ ` in the line count; '=', '&', '%' and letters do not.
    expect(scan(`GET /s?q=<a href='x'>(1);\\\`"&y=2 HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux)\r\n\r\n`)).toEqual({ lineLen: 41, lineMeta: 10, encMeta: 0 });
    // %27 %3C %3e and the %25 of %2527 (a double encoding) anywhere in the window, either hex case; %20, %3D and %zz are not.
    expect(scan("POST /login HTTP/1.1\r\nHost: a\r\n\r\nuser=%27%20OR%201%3D1--&p=%3Cscript%3e%2527%zz")).toEqual({ lineLen: 20, lineMeta: 0, encMeta: 4 });
    // A '%' needs both digits inside the window; LF alone ends the line too.
    expect(scan("ab%2")).toEqual({ lineLen: 4, lineMeta: 0, encMeta: 0 });
    expect(scan("x\n%27")).toEqual({ lineLen: 1, lineMeta: 0, encMeta: 1 });
    // Only the window is read: a line longer than it counts the window; an encoding past it is not seen.
    const long = new Uint8Array(SCAN_WINDOW + 10).fill(0x41);
    long.set(new TextEncoder().encode("%27"), SCAN_WINDOW);
    long[SCAN_WINDOW - 1] = 0x27;
    expect(scan(long)).toEqual({ lineLen: SCAN_WINDOW, lineMeta: 1, encMeta: 0 });
    expect(scan(new Uint8Array(0))).toEqual({ lineLen: 0, lineMeta: 0, encMeta: 0 });
  });
});
