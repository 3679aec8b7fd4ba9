import { expect, test } from "bun:test";
import { LOG2Q8_MAX, log2q8 } from "./log2q8.ts";

test("log2q8: top bit and the 8 bits below it, worked by hand", () => {
  expect(log2q8(0)).toBe(0); // y = 1: msb 0, no bits below
  expect(log2q8(1)).toBe(256); // y = 2 = 0b10: msb 1, mantissa 0b0 << 7 = 0
  expect(log2q8(2)).toBe(256 + 128); // y = 3 = 0b11: msb 1, mantissa 0b1 followed by zeros = 128
  expect(log2q8(255)).toBe(8 * 256); // y = 256: msb 8, mantissa 0
  expect(log2q8(383)).toBe(8 * 256 + 128); // y = 384 = 0b1_1000_0000
  expect(log2q8(1023)).toBe(10 * 256); // y = 1024
  expect(log2q8(1536)).toBe(10 * 256 + 128); // y = 1537: the bits below the top 9 are dropped
  expect(log2q8(2 ** 31 - 1)).toBe(31 * 256); // y = 2^31
  expect(LOG2Q8_MAX).toBe(31 * 256); // y = 2^31 + 1
});

test("log2q8 is monotone and within 0.09 of log2(x + 1) x 256 / 256", () => {
  let prev = -1;
  for (let x = 0; x < 70_000; x++) {
    const v = log2q8(x);
    expect(v).toBeGreaterThanOrEqual(prev);
    prev = v;
    expect(Math.abs(v / 256 - Math.log2(x + 1))).toBeLessThan(0.09);
  }
});

test("log2q8 rejects what the kernel never passes it", () => {
  expect(() => log2q8(-1)).toThrow(/not an integer in 0..2\^31/);
  expect(() => log2q8(1.5)).toThrow(/not an integer/);
  expect(() => log2q8(2 ** 31 + 1)).toThrow(/not an integer in 0..2\^31/);
});
