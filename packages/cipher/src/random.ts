import { RandomSourceError } from './errors.ts';

/**
 * Fills `array` with random 32-bit values, as `crypto.getRandomValues` does. Passing one is
 * for tests and for platforms with their own secure source; the default is
 * `globalThis.crypto.getRandomValues`.
 */
export type RandomSource = (array: Uint32Array) => unknown;

// With ranges of at most 2 ** 26 values a draw is rejected with probability below 2 ** -6, so
// 64 rejections in a row (chance below 2 ** -384) can only mean a broken source. Better a
// typed error than a hang.
const MAX_DRAWS = 64;

/** The platform's secure source, looked up at call time so that tests can spy on it. */
export function platformRandom(array: Uint32Array): Uint32Array {
  const crypto = globalThis.crypto;
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new RandomSourceError('globalThis.crypto.getRandomValues is not available');
  }
  return crypto.getRandomValues(array);
}

/**
 * A uniform integer in `min..max` (inclusive, at most 2 ** 32 values). Rejection sampling
 * instead of a bare `% size`, which would favour the low values whenever `size` does not
 * divide 2 ** 32.
 */
export function randomInt(min: number, max: number, random: RandomSource): number {
  const size = max - min + 1;
  const limit = 2 ** 32 - (2 ** 32 % size);
  const word = new Uint32Array(1);
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    random(word);
    const value = word[0] ?? 0;
    if (value < limit) return min + (value % size);
  }
  throw new RandomSourceError(`random source gave ${MAX_DRAWS} unusable values in a row`);
}
