import { describe, expect, test } from "bun:test";
import { deriveFeatures, isqrt, sampleVariance, type FlowAcc } from "./features.ts";

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
      actData: 1, pMax: 100, pMin: 100, initWin: 0, psh: 0, urg: 0, segMin: 8, flags: 0,
    };
    const f = deriveFeatures(a, 53, 17);
    expect(f.length).toBe(22);
    expect(f.map(Number)).toEqual([53, 17, 1, 100, 100, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 1, 8, 100]);
  });
});
