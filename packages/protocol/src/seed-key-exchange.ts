import {
  caesarKeyFromSharedSecret,
  deriveSharedKey,
  SEED_GROUP,
  validatePublicKey,
} from '@rtt/cipher';
import { BadPublicKeyError, type ProtocolError, toProtocolError } from './errors.ts';
import { SeedKeyReader } from './seed-wire.ts';
import type { Clock, TimerHandle } from './session.ts';

/**
 * The Caesar key of a seed-wire session from our private key and the peer's public key. The
 * peer's key is checked once, here, then the derivation trusts it. Degenerate keys (1 and
 * 256) are accepted: the original programs draw private keys from 0..1000, so they occur.
 * @throws {BadPublicKeyError} a key outside the generator's subgroup
 * @example
 * seedCaesarKey(9, 146); // 187
 */
export function seedCaesarKey(privateKey: number, peerPublicKey: number): number {
  try {
    validatePublicKey(peerPublicKey, SEED_GROUP, { allowDegenerate: true });
  } catch (err) {
    throw new BadPublicKeyError(peerPublicKey, { cause: err });
  }
  const shared = deriveSharedKey(privateKey, peerPublicKey, SEED_GROUP, {
    allowDegenerate: true,
    prevalidated: true,
  });
  return caesarKeyFromSharedSecret(shared);
}

/** What a {@link SeedKeyExchange} calls when the peer's key is whole, or is not one. */
export interface SeedKeyExchangeHandlers {
  /** The peer's public key, whole (not yet checked against the group). */
  readonly onKey: (peerPublicKey: number) => void;
  /** Not a key: a non-digit, too many digits, or a value over 256. */
  readonly onError: (error: ProtocolError) => void;
}

/**
 * Gathers the peer's decimal public key on the seed wire, for both sides: the digits may
 * arrive split over TCP segments and nothing ends them, so the key is taken as soon as no
 * further digit could fit (`"146"`: 1460 > 256), else after `quietMs` with no new digit.
 * Each handler is called at most once, and never after `stop()`.
 * @example
 * const exchange = new SeedKeyExchange(clock, 30, {
 *   onKey: (peer) => agree(seedCaesarKey(privateKey, peer)),
 *   onError: (error) => refuse(error),
 * });
 * exchange.push(chunk);
 */
export class SeedKeyExchange {
  readonly #reader = new SeedKeyReader({ maxValue: SEED_GROUP.prime - 1 });
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #handlers: SeedKeyExchangeHandlers;
  #timer: TimerHandle;
  #done = false;

  /**
   * @example
   * new SeedKeyExchange(systemClock, SEED_QUIET_MS, { onKey, onError });
   */
  constructor(clock: Clock, quietMs: number, handlers: SeedKeyExchangeHandlers) {
    this.#clock = clock;
    this.#quietMs = quietMs;
    this.#handlers = handlers;
  }

  /**
   * Digits received so far.
   * @example
   * exchange.length; // 2 after "14"
   */
  get length(): number {
    return this.#reader.length;
  }

  /**
   * Adds received bytes: they must all be key digits.
   * @example
   * exchange.push(new TextEncoder().encode('14'));
   */
  push(bytes: Uint8Array): void {
    if (this.#done) return;
    try {
      this.#reader.push(bytes);
    } catch (err) {
      this.stop();
      this.#handlers.onError(toProtocolError(err, 'the seed key exchange failed'));
      return;
    }
    this.#clock.clearTimeout(this.#timer);
    if (this.#reader.mayContinue) {
      this.#timer = this.#clock.setTimeout(() => this.#finish(), this.#quietMs);
    } else {
      this.#finish();
    }
  }

  /**
   * Stops the quiet timer; nothing more is called.
   * @example
   * socket.once('close', () => exchange.stop());
   */
  stop(): void {
    this.#done = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(): void {
    if (this.#done) return;
    this.stop();
    this.#handlers.onKey(this.#reader.value());
  }
}
