// Training-set augmentation against shortcut learning. A model trained on a few tools learns their
// fingerprints (hydra's key-exchange packet is 904 bytes, medusa's 1,128) instead of what makes
// them attacks (forty log-ins to one port in ten seconds), and misses the next tool. Each copy of
// a training row scales its payload sizes by one random factor, its gaps by another (link delay
// and machine load stretch them) and its source-context counts by a third (a faster or slower
// attacker), all log-normal; packet counts, ports, flags and the distinct-port/address sketches
// stay as they are. Values stay non-negative integers, as the kernel delivers them.
import { N_FEATURES } from "./features.ts";
import { rng } from "./split.ts";

/** Forward payload sizes (bytes) of the flow, and the source's payload per flow. */
const SIZE = [3, 4, 5, 6, 7, 21, 31];
/** Gaps between forward packets, µs (the rate, 17, moves inversely). */
const TIME = [8, 9, 10, 11, 12];
const RATE = 17;
/** The source's flow counts over its windows (not the sketches 24, 25). */
const COUNT = [22, 23, 26, 27, 28, 29, 30];

export interface AugmentOptions {
  /** Jittered copies per row (0: none; the originals are always kept). */
  copies: number;
  /** Standard deviations of the log of each factor. */
  sizeSigma: number;
  timeSigma: number;
  countSigma: number;
  seed: number;
}

export const NO_AUGMENT: AugmentOptions = { copies: 0, sizeSigma: 0, timeSigma: 0, countSigma: 0, seed: 1 };

/** Rows `idx` of x (n x N_FEATURES), then `copies` jittered copies of each; `origin[j]` is the source row of row j. */
export function augmentRows(x: Float64Array, idx: readonly number[], opt: AugmentOptions): { x: Float64Array; origin: Int32Array } {
  const m = idx.length * (1 + opt.copies);
  const out = new Float64Array(m * N_FEATURES);
  const origin = new Int32Array(m);
  const rand = rng(opt.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  let j = 0;
  for (let c = 0; c <= opt.copies; c++) {
    for (const i of idx) {
      const dst = j * N_FEATURES;
      out.set(x.subarray(i * N_FEATURES, (i + 1) * N_FEATURES), dst);
      origin[j++] = i;
      if (c === 0) continue;
      const size = Math.exp(opt.sizeSigma * gauss()), time = Math.exp(opt.timeSigma * gauss()), count = Math.exp(opt.countSigma * gauss());
      for (const f of SIZE) out[dst + f] = Math.floor(out[dst + f]! * size);
      for (const f of TIME) out[dst + f] = Math.floor(out[dst + f]! * time);
      out[dst + RATE] = Math.floor(out[dst + RATE]! / time);
      // A count of one (this flow alone) stays one: the flow itself is always there.
      for (const f of COUNT) if (out[dst + f]! > 1) out[dst + f] = Math.max(1, Math.round(out[dst + f]! * count));
    }
  }
  return { x: out, origin };
}
