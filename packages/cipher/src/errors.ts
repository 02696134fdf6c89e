import { brand, type ClassOf, hasBrand } from './error-brand.ts';
/**
 * Every error code this package throws on purpose, in one place so that callers can switch on
 * `err.code` without importing the classes.
 */
export const CIPHER_ERROR_CODES = {
  cipher: 'RTT_ERR_CIPHER',
  invalidGroup: 'RTT_ERR_INVALID_GROUP',
  invalidPublicKey: 'RTT_ERR_INVALID_PUBLIC_KEY',
  weakPublicKey: 'RTT_ERR_WEAK_PUBLIC_KEY',
  randomSource: 'RTT_ERR_RANDOM_SOURCE',
} as const;

/** One of the values of {@link CIPHER_ERROR_CODES}. */
export type CipherErrorCode = (typeof CIPHER_ERROR_CODES)[keyof typeof CIPHER_ERROR_CODES];

// instanceof goes by a brand, so that errors from the package's other (ESM or CommonJS)
// copy match too: see @rtt/cipher/error-brand. A class added here needs its brand() line.

/**
 * Base class of every error this package throws on purpose. Wrong argument types and
 * non-integers are plain `TypeError` / `RangeError` instead, because they are bugs in the
 * caller, not conditions to handle. `name` is the class name; `instanceof` also works on
 * errors from the other (ESM or CommonJS) copy of this package.
 *
 * @example
 * ```ts
 * try {
 *   deriveSharedKey(privateKey, peerPublicKey);
 * } catch (err) {
 *   if (err instanceof CipherError) console.error(err.code); // e.g. 'RTT_ERR_INVALID_PUBLIC_KEY'
 * }
 * ```
 */
export class CipherError extends Error {
  readonly code: CipherErrorCode = CIPHER_ERROR_CODES.cipher;

  /**
   * @example
   * ```ts
   * new CipherError('no usable key', { cause: err });
   * ```
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * Whether `value` carries the brand of the class on the right of `instanceof` (this one or
   * a subclass), so that errors from the package's other copy match too.
   */
  static override [Symbol.hasInstance]<T>(this: ClassOf<T>, value: unknown): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class right of `instanceof`, often a subclass.
    return hasBrand(this, value);
  }
}
brand(CipherError, 'rtt.error.CipherError');

/**
 * The Diffie-Hellman group is unusable: the modulus is not a prime in the supported range, or
 * the generator is out of range or generates a subgroup too small to hold a non-degenerate key.
 *
 * @example
 * ```ts
 * validateGroup({ name: 'bad', prime: 256, generator: 3 }); // throws InvalidGroupError
 * ```
 */
export class InvalidGroupError extends CipherError {
  override readonly code = CIPHER_ERROR_CODES.invalidGroup;
}
brand(InvalidGroupError, 'rtt.error.InvalidGroupError');

/**
 * A peer's public key is outside `1..prime-1` or is not a power of the group's generator.
 * Accepting such a key would let the peer steer the shared secret into a subgroup of its
 * choosing.
 *
 * @example
 * ```ts
 * validatePublicKey(3); // throws InvalidPublicKeyError: 3 is not a power of 11 mod 257
 * ```
 */
export class InvalidPublicKeyError extends CipherError {
  override readonly code:
    | typeof CIPHER_ERROR_CODES.invalidPublicKey
    | typeof CIPHER_ERROR_CODES.weakPublicKey = CIPHER_ERROR_CODES.invalidPublicKey;
}
brand(InvalidPublicKeyError, 'rtt.error.InvalidPublicKeyError');

/**
 * A peer's public key is `1` or `prime-1`. Both are valid group elements, but they confine the
 * shared secret to `{1}` or `{1, prime-1}` whatever our private key is, so they are refused
 * unless the caller opts in with `allowDegenerate` (the original seed client can send them).
 * A subclass of {@link InvalidPublicKeyError}, so one `instanceof` check catches both.
 *
 * @example
 * ```ts
 * validatePublicKey(1); // throws WeakPublicKeyError
 * validatePublicKey(1, SEED_GROUP, { allowDegenerate: true }); // returns 1
 * ```
 */
export class WeakPublicKeyError extends InvalidPublicKeyError {
  override readonly code = CIPHER_ERROR_CODES.weakPublicKey;
}
brand(WeakPublicKeyError, 'rtt.error.WeakPublicKeyError');

/**
 * No secure random source is available (`globalThis.crypto.getRandomValues` is missing), or
 * the one given keeps producing values that rejection sampling cannot use, which only a
 * broken source does.
 *
 * @example
 * ```ts
 * createKeyPair(SEED_GROUP, (array) => array.fill(0xffffffff)); // throws RandomSourceError
 * ```
 */
export class RandomSourceError extends CipherError {
  override readonly code = CIPHER_ERROR_CODES.randomSource;
}
brand(RandomSourceError, 'rtt.error.RandomSourceError');
