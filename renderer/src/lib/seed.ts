// Seed handling: the form keeps -1 for "random"; the contract wants a concrete seed >= 0, so the
// UI draws one in [0, 2^32) right before sending and remembers it for "reuse last".

export const RANDOM_SEED = -1;
export const RANDOM_SEED_LIMIT = 2 ** 32;

/** A uniformly random integer in [0, 2^32). `random` returns a float in [0, 1) (Math.random by default). */
export function randomSeed(random: () => number = defaultRandom): number {
  const n = Math.floor(random() * RANDOM_SEED_LIMIT);
  return Math.min(Math.max(n, 0), RANDOM_SEED_LIMIT - 1);
}

function defaultRandom(): number {
  const c = globalThis.crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0] / RANDOM_SEED_LIMIT;
  return Math.random();
}

export type SeedCheck = { seed: number; error?: undefined } | { seed?: undefined; error: string };

/** The seed to send for the value in the seed field (`label` names it): -1 (or empty) draws a random one. */
export function resolveSeed(field: number | null | undefined, random?: () => number, label = 'Seed'): SeedCheck {
  if (field === null || field === undefined || field === RANDOM_SEED) return { seed: randomSeed(random) };
  if (!Number.isInteger(field)) return { error: `${label} must be a whole number (or -1 for random)` };
  if (field < 0) return { error: `${label} must be -1 (random) or a number from 0 up` };
  if (field > Number.MAX_SAFE_INTEGER) return { error: `${label} must be at most ${Number.MAX_SAFE_INTEGER}` };
  return { seed: field };
}
