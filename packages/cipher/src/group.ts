import { assertInteger } from './assert.ts';
import { InvalidGroupError } from './errors.ts';
import { isPrime, multiplicativeOrder } from './modular-arithmetic.ts';

/** A Diffie-Hellman group: the integers modulo a prime, and a generator of the keys. */
export interface DhGroup {
  /** A label for logs and negotiation, e.g. `'seed-257'`. */
  readonly name: string;
  /** The modulus: a prime in `5..MAX_GROUP_PRIME`. */
  readonly prime: number;
  /** The base of every public key: `1 < generator < prime - 1`. */
  readonly generator: number;
}

/**
 * The seed's group: prime 257, generator 11. 11 has order 64 modulo 257, so only 64 public
 * keys and 64 shared secrets exist. For teaching only.
 */
export const SEED_GROUP = Object.freeze({ name: 'seed-257', prime: 257, generator: 11 } as const);

/**
 * The largest modulus accepted. Below 2 ** 26 a product of two residues stays exact in a
 * double, which lets the arithmetic use plain numbers.
 */
export const MAX_GROUP_PRIME = 2 ** 26;

// Validating a group means a primality test and a factorisation; a handshake validates the
// same group every time, so remember the answer. Capped because groups may come from config.
const orderCache = new Map<string, number>();
const ORDER_CACHE_LIMIT = 32;

/**
 * Validates `group` and returns the multiplicative order of its generator.
 * Internal: {@link validateGroup} and {@link generatorOrder} are the public faces.
 */
export function checkedGroupOrder(group: DhGroup): number {
  if (typeof group !== 'object' || group === null) {
    throw new TypeError(`group must be an object, got ${group === null ? 'null' : typeof group}`);
  }
  const { prime, generator } = group;
  assertInteger(prime, 'group.prime');
  assertInteger(generator, 'group.generator');
  const cacheKey = `${prime}:${generator}`;
  const cached = orderCache.get(cacheKey);
  if (cached !== undefined) return cached;

  if (prime < 5 || prime > MAX_GROUP_PRIME || !isPrime(prime)) {
    throw new InvalidGroupError(
      `group.prime must be a prime in 5..${MAX_GROUP_PRIME}, got ${prime}`,
    );
  }
  // prime - 1 has order 2: every key it generates would be 1 or prime - 1, both degenerate.
  if (generator <= 1 || generator >= prime - 1) {
    throw new InvalidGroupError(`group.generator must be in 2..${prime - 2}, got ${generator}`);
  }
  const order = multiplicativeOrder(generator, prime);
  if (orderCache.size >= ORDER_CACHE_LIMIT) orderCache.clear();
  orderCache.set(cacheKey, order);
  return order;
}

/**
 * Checks that `group` is usable: `prime` is a prime in `5..MAX_GROUP_PRIME` and
 * `1 < generator < prime - 1`. Throws `TypeError` / `RangeError` for wrong types and
 * non-integers, {@link InvalidGroupError} otherwise.
 *
 * @example
 * ```ts
 * validateGroup(SEED_GROUP); // fine
 * validateGroup({ name: 'x', prime: 255, generator: 2 }); // throws InvalidGroupError (255 = 3 * 5 * 17)
 * ```
 */
export function validateGroup(group: DhGroup): void {
  checkedGroupOrder(group);
}

/**
 * The multiplicative order of the group's generator: how many distinct public keys (and
 * shared secrets) can ever occur. 64 for the seed's group, which is why an eavesdropper needs
 * at most 64 tries.
 *
 * @example
 * ```ts
 * generatorOrder(); // 64
 * generatorOrder({ name: 'full', prime: 257, generator: 3 }); // 256
 * ```
 */
export function generatorOrder(group: DhGroup = SEED_GROUP): number {
  return checkedGroupOrder(group);
}
