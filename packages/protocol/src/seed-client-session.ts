import {
  caesarDecryptInPlace,
  caesarEncryptInPlace,
  createSeedKeyPair,
  type RandomSource,
} from '@rtt/cipher';
import { assertBytes, assertFunction, assertInteger, assertString } from '@rtt/cipher/assert';
import {
  NotReadyError,
  type ProtocolError,
  toProtocolError,
  UnexpectedDataError,
} from './errors.ts';
import { SeedKeyExchange, seedCaesarKey } from './seed-key-exchange.ts';
import { decodeSeedText, encodeSeedPublicKey, encodeSeedText, SEED_QUIET_MS } from './seed-wire.ts';
import { assertClock, type Clock, type SessionTransport } from './session.ts';

/**
 * Options for {@link SeedClientSession}.
 * @example
 * const options: SeedClientSessionOptions = { onReady, onAnswer, onFailure, random };
 */
export interface SeedClientSessionOptions {
  /** The keys are agreed: requests may be sent. `key` is the Caesar shift (0: clear text). */
  readonly onReady: (key: number) => void;
  /** The answer to the request in flight, decrypted and decoded (bad UTF-8 becomes U+FFFD). */
  readonly onAnswer: (text: string) => void;
  /**
   * The session is over, called once: a bad key from the server (`RTT_ERR_BAD_SEED_KEY`,
   * `RTT_ERR_BAD_PUBLIC_KEY`) or bytes nobody asked for ({@link UnexpectedDataError}).
   * Nothing is read or sent afterwards; closing the connection is the caller's.
   */
  readonly onFailure: (error: ProtocolError) => void;
  /** Replaces the platform's randomness for our key pair, for tests. */
  readonly random?: RandomSource | undefined;
  /** Timers for the quiet period after the server's key; default `systemClock`. */
  readonly clock?: Clock | undefined;
  /**
   * How long the server's key digits, when they could take another digit, wait for more
   * before they are taken; default {@link SEED_QUIET_MS} (30 ms).
   */
  readonly quietMs?: number | undefined;
}

// The states of a session.
const NEW = 0;
const KEY = 1;
const READY = 2;
const DONE = 3;

/**
 * The original client's side of the seed wire, with no socket in it, for talking to the
 * original Python server (or ours): `start()` sends our public key in decimal (private key in
 * 0..1000, as the original picks it, from a cryptographic source), the server's key comes back
 * in decimal (taken as soon as no further digit could fit, else after `quietMs` of quiet, in
 * case TCP split it), then each `request()` sends one Caesar-encrypted command and the next
 * received chunk is its answer, as the seed assumes: one answer per `recv`.
 *
 * One request at a time: the wire has no ids, so the caller (a Node client, say) queues its
 * requests and sends the next from `onAnswer`. Misuse throws (`request()` before `onReady`,
 * or while a request is in flight: {@link NotReadyError}); what the server sends wrong ends
 * in `onFailure`, never in a throw from `push()`.
 *
 * @example
 * const session = new SeedClientSession(transport, {
 *   onReady: () => session.request('TIME'),
 *   onAnswer: (text) => console.log(text), // '00:02:19.198109'
 *   onFailure: (error) => console.error(error.code),
 * });
 * socket.on('data', (chunk) => session.push(chunk));
 * socket.once('close', () => session.close());
 * session.start();
 */
export class SeedClientSession {
  readonly #transport: SessionTransport;
  readonly #options: SeedClientSessionOptions;
  readonly #keyExchange: SeedKeyExchange;
  #state = NEW;
  #privateKey = -1;
  #key = -1;
  #inFlight = false;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new SeedClientSession(transport, { onReady, onAnswer, onFailure, clock: fakeClock });
   */
  constructor(transport: SessionTransport, options: SeedClientSessionOptions) {
    if (
      typeof transport?.write !== 'function' ||
      typeof (transport as Partial<SessionTransport>).end !== 'function'
    ) {
      throw new TypeError('transport must have write() and end()');
    }
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    for (const name of ['onReady', 'onAnswer', 'onFailure'] as const) {
      assertFunction(options[name], `options.${name}`);
    }
    if (options.random !== undefined) assertFunction(options.random, 'options.random');
    const clock = assertClock(options.clock, 'options.clock');
    const quietMs = assertInteger(
      options.quietMs ?? SEED_QUIET_MS,
      'options.quietMs',
      0,
      2 ** 31 - 1,
    );
    this.#transport = transport;
    this.#options = options;
    this.#keyExchange = new SeedKeyExchange(clock, quietMs, {
      onKey: (peer) => this.#agree(peer),
      onError: (error) => this.#fail(error),
    });
  }

  /**
   * Whether the keys are agreed (and the session has not failed or been closed).
   * @example
   * if (session.ready && !session.inFlight) session.request('DATE');
   */
  get ready(): boolean {
    return this.#state === READY;
  }

  /**
   * The Caesar key agreed (0..255; 0 means the session runs in clear), or `undefined` before.
   * @example
   * session.key; // 187
   */
  get key(): number | undefined {
    return this.#key >= 0 ? this.#key : undefined;
  }

  /**
   * Whether a request was sent and its answer has not come yet.
   * @example
   * if (!session.inFlight) session.request(queue.shift());
   */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /**
   * Sends our public key, as decimal digits; does nothing when called again.
   * @throws {RandomSourceError} (from `@rtt/cipher`) when the random source is broken
   * @example
   * session.start();
   */
  start(): void {
    if (this.#state !== NEW) return;
    const keys = createSeedKeyPair(this.#options.random);
    this.#privateKey = keys.privateKey;
    this.#state = KEY;
    this.#transport.write([encodeSeedPublicKey(keys.publicKey)]);
  }

  /**
   * Feeds bytes from the server: first its key, then one answer per chunk. Takes ownership
   * of `chunk` (answers are decrypted in place). Never throws for bad input: it ends in
   * `onFailure`. An exception from `onReady` or `onAnswer` propagates (it is the caller's).
   * Ignored after a failure or `close()`.
   * @throws {TypeError} when `chunk` is not a Uint8Array
   * @example
   * socket.on('data', (chunk) => session.push(chunk));
   */
  push(chunk: Uint8Array): void {
    assertBytes(chunk, 'chunk');
    if (this.#state === DONE || chunk.length === 0) return;
    if (this.#state === KEY) {
      this.#onKeyBytes(chunk);
      return;
    }
    if (!this.#inFlight) {
      // Before our key, or between requests: the seed server never speaks unasked.
      this.#fail(new UnexpectedDataError(chunk.length));
      return;
    }
    this.#inFlight = false;
    this.#options.onAnswer(decodeSeedText(caesarDecryptInPlace(chunk, this.#key)));
  }

  /**
   * Sends one command (the seed's are `TIME`, `DATE`, `TEMP`; anything else is sent as it
   * is, and a server of ours answers it `ERROR unknown command ...`). Its answer comes to
   * `onAnswer`.
   * @throws {NotReadyError} before `onReady`, while a request is in flight, or after a
   * failure or `close()`
   * @throws {TypeError | RangeError} when `command` is not a string, or is empty (nothing would
   * be sent, and no answer could come)
   * @example
   * session.request('TIME');
   */
  request(command: string): void {
    assertString(command, 'command');
    if (command.length === 0) throw new RangeError('command must not be empty');
    if (this.#state !== READY || this.#inFlight) throw new NotReadyError();
    this.#inFlight = true;
    this.#transport.write([caesarEncryptInPlace(encodeSeedText(command), this.#key)]);
  }

  /**
   * The connection is gone: timers stop, nothing more is read or sent.
   * @example
   * socket.once('close', () => session.close());
   */
  close(): void {
    this.#state = DONE;
    this.#inFlight = false;
    this.#keyExchange.stop();
  }

  #onKeyBytes(chunk: Uint8Array): void {
    // The original server sends its key in one piece; only a pause says a split one is whole.
    this.#keyExchange.push(chunk);
  }

  #agree(peer: number): void {
    if (this.#state !== KEY) return;
    let key: number;
    try {
      key = seedCaesarKey(this.#privateKey, peer);
    } catch (err) {
      this.#fail(toProtocolError(err, 'the seed key exchange failed'));
      return;
    }
    this.#key = key;
    this.#state = READY;
    this.#options.onReady(key);
  }

  #fail(error: ProtocolError): void {
    this.close();
    this.#options.onFailure(error);
  }
}
