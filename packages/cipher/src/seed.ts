import { assertFunction, assertInteger } from './assert.ts';
import type { KeyPair } from './diffie-hellman.ts';
import { SEED_GROUP } from './group.ts';
import { modPow } from './modular-arithmetic.ts';
import { platformRandom, type RandomSource, randomInt } from './random.ts';

/** The largest private key the original seed programs pick (they pick from `0..1000`). */
export const SEED_PRIVATE_KEY_MAX = 1000;

/**
 * A key pair as the original seed programs make one: private key uniform in `0..1000`, in the
 * seed's group. Only the random source is better (`crypto.getRandomValues`, unbiased), so our
 * seed-wire peers send exactly the keys the originals can send, degenerate ones included
 * (public key 1 for private keys 0, 64, ..., 960; 256 for 32, 96, ..., 992).
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = createSeedKeyPair();
 * socket.write(String(publicKey)); // the seed sends decimal ASCII digits
 * ```
 */
export function createSeedKeyPair(random: RandomSource = platformRandom): KeyPair {
  assertFunction(random, 'random');
  const privateKey = randomInt(0, SEED_PRIVATE_KEY_MAX, random);
  return { privateKey, publicKey: modPow(SEED_GROUP.generator, privateKey, SEED_GROUP.prime) };
}

/**
 * The Caesar key the seed derives from a shared secret: the secret modulo 256.
 *
 * @example
 * ```ts
 * caesarKeyFromSharedSecret(184); // 184
 * caesarKeyFromSharedSecret(256); // 0: no encryption at all
 * ```
 */
export function caesarKeyFromSharedSecret(shared: number): number {
  assertInteger(shared, 'shared', 0);
  return shared % 256;
}

/**
 * Whether a shared secret yields Caesar key 0, i.e. sends everything in clear. With the seed's
 * group that is the secret 256. It is far likelier than 1 in 64, because the secret is
 * `11 ** (a * b)` and products of random exponents are mostly even: about 1 session in 21
 * gets it with the seed's private keys (0..1000), 1 in 30 with `createKeyPair`'s.
 * A handshake should re-key then.
 *
 * @example
 * ```ts
 * isWeakSharedSecret(256); // true
 * isWeakSharedSecret(184); // false
 * ```
 */
export function isWeakSharedSecret(shared: number): boolean {
  return caesarKeyFromSharedSecret(shared) === 0;
}
