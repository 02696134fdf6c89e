import { assertFunction, assertInteger } from './assert.ts';
import { InvalidPublicKeyError, RandomSourceError, WeakPublicKeyError } from './errors.ts';
import { checkedGroupOrder, type DhGroup, SEED_GROUP } from './group.ts';
import { modPow } from './modular-arithmetic.ts';
import { platformRandom, type RandomSource, randomInt } from './random.ts';

/** One side's Diffie-Hellman keys. Only `publicKey` is ever sent. */
export interface KeyPair {
  /** The secret exponent. */
  readonly privateKey: number;
  /** `generator ** privateKey mod prime`, in `1..prime-1`. */
  readonly publicKey: number;
}

/** How strict {@link validatePublicKey} is. */
export interface PublicKeyOptions {
  /**
   * Accept the degenerate keys `1` and `prime - 1` (when it is a power of the generator).
   * Needed to talk to the original seed client, which sends 1 for every private key that is
   * a multiple of 64, and 256 for every one that is 32 more than a multiple of 64.
   * Default `false`.
   */
  readonly allowDegenerate?: boolean;
}

// Redrawing a private key whose public key is degenerate: at most half of all private keys
// are (generators have order >= 3), so 256 redraws in a row mean a broken random source.
const MAX_KEY_DRAWS = 256;

/**
 * Whether `value` is a power of the group's generator, i.e. lies in the subgroup every honest
 * public key comes from. The multiplicative group modulo a prime is cyclic, so it has exactly
 * one subgroup of each order `q`, made of the `x` with `x ** q = 1`: one exponentiation
 * decides.
 *
 * @example
 * ```ts
 * isInSubgroup(184); // true:  184 = 11 ** 27 mod 257
 * isInSubgroup(3); // false: 3 generates all of 1..256, 11 only 64 of them
 * ```
 */
export function isInSubgroup(value: number, group: DhGroup = SEED_GROUP): boolean {
  assertInteger(value, 'value');
  const order = checkedGroupOrder(group);
  return value >= 1 && value < group.prime && modPow(value, order, group.prime) === 1;
}

/**
 * Checks a peer's public key and returns it. Rejected, in this order:
 * - not a number: `TypeError`; not an integer: `RangeError`;
 * - outside `1..prime-1`: {@link InvalidPublicKeyError} (0 and multiples of the prime
 *   would make the shared secret 0, which is no group element);
 * - not a power of the generator: {@link InvalidPublicKeyError} (no honest peer can send it;
 *   it would move the shared secret outside the agreed subgroup);
 * - `1` or `prime - 1`, unless `allowDegenerate`: {@link WeakPublicKeyError}. They are
 *   honest powers of the generator, but they force the shared secret to 1, or to 1 or
 *   `prime - 1`, whatever our private key is; `prime - 1 = 256` in the seed's group even
 *   gives Caesar key 0.
 *
 * @example
 * ```ts
 * validatePublicKey(184); // 184
 * validatePublicKey(0); // throws InvalidPublicKeyError
 * validatePublicKey(256); // throws WeakPublicKeyError
 * validatePublicKey(256, SEED_GROUP, { allowDegenerate: true }); // 256
 * ```
 */
export function validatePublicKey(
  value: number,
  group: DhGroup = SEED_GROUP,
  options: PublicKeyOptions = {},
): number {
  assertInteger(value, 'publicKey');
  const order = checkedGroupOrder(group);
  const { prime } = group;
  if (value < 1 || value >= prime) {
    throw new InvalidPublicKeyError(`publicKey must be in 1..${prime - 1}, got ${value}`);
  }
  if (modPow(value, order, prime) !== 1) {
    throw new InvalidPublicKeyError(
      `publicKey ${value} is not a power of the generator ${group.generator} modulo ${prime}`,
    );
  }
  if (options.allowDegenerate !== true && (value === 1 || value === prime - 1)) {
    throw new WeakPublicKeyError(
      `publicKey ${value} is degenerate: it confines the shared secret to {1, ${prime - 1}}`,
    );
  }
  return value;
}

/**
 * The public key for `privateKey`: `generator ** privateKey mod prime`.
 *
 * @example
 * ```ts
 * publicKeyFor(1); // 11
 * publicKeyFor(0); // 1 (what the seed client sends for private key 0)
 * ```
 */
export function publicKeyFor(privateKey: number, group: DhGroup = SEED_GROUP): number {
  assertInteger(privateKey, 'privateKey', 0, Number.MAX_SAFE_INTEGER);
  checkedGroupOrder(group);
  return modPow(group.generator, privateKey, group.prime);
}

/**
 * A fresh key pair. The private key is uniform in `1..prime-2`, drawn from
 * `globalThis.crypto.getRandomValues` (or `random`) by rejection sampling, so without modulo
 * bias; it is drawn again if its public key would be degenerate (1 or `prime - 1`), so a
 * pair from here always passes a strict {@link validatePublicKey} on the other side.
 *
 * @example
 * ```ts
 * const alice = createKeyPair();
 * const bob = createKeyPair();
 * deriveSharedKey(alice.privateKey, bob.publicKey) === deriveSharedKey(bob.privateKey, alice.publicKey); // true
 * ```
 */
export function createKeyPair(
  group: DhGroup = SEED_GROUP,
  random: RandomSource = platformRandom,
): KeyPair {
  checkedGroupOrder(group);
  assertFunction(random, 'random');
  const { prime, generator } = group;
  for (let draw = 0; draw < MAX_KEY_DRAWS; draw++) {
    const privateKey = randomInt(1, prime - 2, random);
    const publicKey = modPow(generator, privateKey, prime);
    if (publicKey !== 1 && publicKey !== prime - 1) return { privateKey, publicKey };
  }
  throw new RandomSourceError(`random source gave ${MAX_KEY_DRAWS} degenerate keys in a row`);
}

/** Options of {@link deriveSharedKey}: those of {@link validatePublicKey}, and one more. */
export interface DeriveSharedKeyOptions extends PublicKeyOptions {
  /**
   * `peerPublicKey` has already passed {@link validatePublicKey} with this very group (and
   * the strictness the caller wants), so it is not checked a second time. For callers that
   * validate first because they report a bad key in their own terms, as `@rtt/protocol`'s
   * handshake does. A key that skipped validation this way can steer the shared secret into
   * a small subgroup: never set this for a key nobody checked. Default `false`.
   */
  readonly prevalidated?: boolean;
}

/**
 * The shared secret `peerPublicKey ** privateKey mod prime`, in `1..prime-1`, after checking
 * the peer's key with {@link validatePublicKey} (same `options`), unless `prevalidated` says
 * the caller already did. `privateKey` may be any non-negative safe integer, so the seed's
 * private keys (0..1000) work too.
 *
 * @example
 * ```ts
 * const mine = createKeyPair();
 * const shared = deriveSharedKey(mine.privateKey, peerPublicKey);
 * const cipher = createCaesarCipher(caesarKeyFromSharedSecret(shared));
 *
 * // Validated once, up front, to answer a bad key with a protocol error:
 * validatePublicKey(peerPublicKey, SEED_GROUP);
 * deriveSharedKey(mine.privateKey, peerPublicKey, SEED_GROUP, { prevalidated: true });
 * ```
 */
export function deriveSharedKey(
  privateKey: number,
  peerPublicKey: number,
  group: DhGroup = SEED_GROUP,
  options: DeriveSharedKeyOptions = {},
): number {
  assertInteger(privateKey, 'privateKey', 0, Number.MAX_SAFE_INTEGER);
  if (options.prevalidated !== true) validatePublicKey(peerPublicKey, group, options);
  return modPow(peerPublicKey, privateKey, group.prime);
}
