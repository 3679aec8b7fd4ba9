// The one input transform the kernel's MLP knows: log2(x + 1) in Q8 fixed point (8 fractional
// bits), from the position of the top bit and the 8 bits below it as a linear mantissa. Counts,
// sizes and times span nine orders of magnitude; on a log scale a model sees "ten times more"
// alike at every size, which is what carries over from one network to another. Integer-only and
// defined bit for bit: bpf/classify.h computes the same (models/INT32_SPEC.md, step 1b).

/** Largest input: the kernel clamps to xmax <= 2^31 first. */
export const LOG2Q8_MAX_INPUT = 2 ** 31;
/** log2q8(2^31) = 31 · 256 + 0 (x + 1 = 2^31 + 1: top bit 31, the 8 bits below it 0). */
export const LOG2Q8_MAX = log2q8(LOG2Q8_MAX_INPUT);

export function log2q8(x: number): number {
  if (!Number.isInteger(x) || x < 0 || x > LOG2Q8_MAX_INPUT) throw new RangeError(`log2q8: ${x} is not an integer in 0..2^31`);
  const y = x + 1; // <= 2^31 + 1 < 2^32: exact in uint32 arithmetic
  const msb = 31 - Math.clz32(y);
  const frac = msb >= 8 ? (y >>> (msb - 8)) & 255 : (y << (8 - msb)) & 255;
  return msb * 256 + frac;
}
