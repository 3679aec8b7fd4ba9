// Small helpers over a scenario's seeded rng, so every random choice of a generator is
// reproducible from the run's seed and differs between a training run and a test run.

export type Rng = () => number;

/** An integer in [lo, hi]. */
export function intBetween(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError("pick from an empty list");
  return items[Math.floor(rng() * items.length)]!;
}

/** Picks by weight: entries are [item, weight]. */
export function pickWeighted<T>(rng: Rng, entries: readonly (readonly [T, number])[]): T {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let r = rng() * total;
  for (const [item, w] of entries) {
    r -= w;
    if (r < 0) return item;
  }
  return entries[entries.length - 1]![0];
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

/** A shuffled copy. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `n` distinct items in random order (all of them when there are fewer). */
export function sample<T>(rng: Rng, items: readonly T[], n: number): T[] {
  return shuffled(rng, items).slice(0, n);
}

/** `[value]` with probability `p`, else `[]` (an optional list entry). */
export function maybe<T>(rng: Rng, p: number, value: T): T[] {
  return chance(rng, p) ? [value] : [];
}

/** A seed of its own for `id` under the run's seed (FNV-style mixing): one scenario's or one
 *  link's draws do not move when others are added or reordered. */
export function seedOf(seed: number, id: string): number {
  let h = seed >>> 0;
  for (const c of id) h = (Math.imul(h ^ c.charCodeAt(0), 0x01000193) + 0x9e3779b9) >>> 0;
  return h;
}
