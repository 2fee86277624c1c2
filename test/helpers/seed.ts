// Seeded randomness for tests that pick moments at random (kill loops): the seed is printed, and
// setting the variable replays a failing run's moments.

/** mulberry32: a small seeded generator, so that a failing run's moments can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed in `variable`, else `fallback`; refuses a value that is not a whole number. */
export function seedFrom(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`${variable}: found "${text}"; expected a whole number`);
  return seed;
}
