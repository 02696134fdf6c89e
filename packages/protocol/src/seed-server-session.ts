import {
  caesarDecryptInPlace,
  caesarEncryptInPlace,
  createKeyPair,
  type RandomSource,
  SEED_GROUP,
} from '@rtt/cipher';
import { assertBytes, assertFunction, assertInteger } from '@rtt/cipher/assert';
import { IdleTimeoutError, type ProtocolError, toProtocolError } from './errors.ts';
import { SeedKeyExchange, seedCaesarKey } from './seed-key-exchange.ts';
import {
  encodeSeedPublicKey,
  encodeSeedText,
  isSeedCommand,
  SEED_MAX_HELD_BYTES,
  SEED_QUIET_MS,
  SeedCommandReader,
} from './seed-wire.ts';
import {
  type Answerer,
  assertClock,
  type Clock,
  requestEvent,
  type ServerSessionEvent,
  type ServerSessionListener,
  type SessionTransport,
  systemClock,
  type TimerHandle,
} from './session.ts';

/**
 * Options for {@link SeedServerSession}.
 * @example
 * const options: SeedServerSessionOptions = { answer, onEvent: (event) => log(event.type) };
 */
export interface SeedServerSessionOptions {
  /** The answer text for TIME, DATE and TEMP. A throw is answered `ERROR internal error`. */
  readonly answer: Answerer;
  /**
   * Told of the key exchange, requests and refusals, for logs and counters. Called
   * synchronously; an exception from it propagates to the caller of `push()` (or out of the
   * clock's timer), it is not taken for bad input.
   */
  readonly onEvent?: ServerSessionListener | undefined;
  /** Timers for the quiet periods; default {@link systemClock}. */
  readonly clock?: Clock | undefined;
  /** Replaces the platform's randomness for the server's key pair, for tests. */
  readonly random?: RandomSource | undefined;
  /**
   * How long key digits that could take another digit, or a command that stops in the
   * middle, wait for the rest before they are taken as they stand; default
   * {@link SEED_QUIET_MS} (30 ms).
   */
  readonly quietMs?: number | undefined;
  /** Most bytes held for a command still arriving; default {@link SEED_MAX_HELD_BYTES}. */
  readonly maxHeldBytes?: number | undefined;
}

// The original server quotes nothing; ours quotes a bounded prefix of what it did not
// understand, since the text came from the client and need not be echoed whole.
const MAX_ECHO = 32;

const CLEAR_TEXT: ServerSessionEvent = Object.freeze({ type: 'clear-text' });

// The states of a session; plain numbers, as in the decoder.
const KEY = 0;
const READY = 1;
const DONE = 2;

const noop = () => {};

/**
 * The server's side of one connection on the seed wire (the original Python client), with
 * no socket in it and time only through the injected clock. The client's public key arrives
 * as decimal digits with no terminator: it is taken as soon as no further digit could fit
 * (`"146"`: 1460 > 256), else after `quietMs` of quiet. A key outside the group is refused
 * (`RTT_ERR_BAD_SEED_KEY`, `RTT_ERR_BAD_PUBLIC_KEY`) and the transport ended. Otherwise the
 * server answers with its own key in decimal, and from then on every Caesar-encrypted
 * command is answered with one Caesar-encrypted text (the answers to one pushed segment in
 * one write, one part each). Commands joined in one segment are each answered; one
 * split across segments waits up to `quietMs` for the rest; text that is no command is
 * answered `ERROR unknown command "..."` so that no client hangs. A session whose keys come
 * out as Caesar key 0 (shared secret 256) cannot re-key on this wire: it is served in clear,
 * and reported with a `clear-text` event.
 *
 * @example
 * const session = new SeedServerSession(transport, {
 *   answer: (command) => (command === 'DATE' ? formatDate() : formatTime()),
 *   onEvent: (event) => { if (event.type === 'refused') log(event.error.code); },
 * });
 * socket.on('data', (chunk) => session.push(chunk));
 * socket.once('close', () => session.close());
 */
export class SeedServerSession {
  readonly #transport: SessionTransport;
  readonly #answer: Answerer;
  readonly #onEvent: ServerSessionListener;
  readonly #clock: Clock;
  readonly #random: RandomSource | undefined;
  readonly #quietMs: number;
  readonly #keyExchange: SeedKeyExchange;
  readonly #commands: SeedCommandReader;
  #state = KEY;
  #key = -1;
  #timer: TimerHandle;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new SeedServerSession(transport, { answer, clock: fakeClock, quietMs: 10 });
   */
  constructor(transport: SessionTransport, options: SeedServerSessionOptions) {
    if (
      typeof transport?.write !== 'function' ||
      typeof (transport as Partial<SessionTransport>).end !== 'function'
    ) {
      throw new TypeError('transport must have write() and end()');
    }
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    assertFunction(options.answer, 'options.answer');
    if (options.onEvent !== undefined) assertFunction(options.onEvent, 'options.onEvent');
    if (options.random !== undefined) assertFunction(options.random, 'options.random');
    this.#clock = assertClock(options.clock, 'options.clock');
    this.#quietMs = assertInteger(
      options.quietMs ?? SEED_QUIET_MS,
      'options.quietMs',
      0,
      2 ** 31 - 1,
    );
    this.#commands = new SeedCommandReader({
      maxHeldBytes: options.maxHeldBytes ?? SEED_MAX_HELD_BYTES,
    });
    this.#transport = transport;
    this.#answer = options.answer;
    this.#onEvent = options.onEvent ?? noop;
    this.#random = options.random;
    this.#keyExchange = new SeedKeyExchange(this.#clock, this.#quietMs, {
      onKey: (peer) => this.#agree(peer),
      onError: (error) => this.#refuse(error),
    });
  }

  /**
   * Whether the keys are agreed and commands are being answered.
   * @example
   * if (!session.ready) log('the client never finished its key');
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
   * Bytes received and not yet acted on: key digits still gathering, or a command still
   * arriving (at most `maxHeldBytes`).
   * @example
   * session.heldBytes; // 2 after "TI"
   */
  get heldBytes(): number {
    if (this.#state === KEY) return this.#keyExchange.length;
    return this.#state === READY ? this.#commands.heldBytes : 0;
  }

  /**
   * Feeds bytes from the client; answers go to the transport. Takes ownership of `chunk`:
   * it is decrypted in place. Never throws for bad input: a bad key is refused and the
   * transport ended; bad commands are answered with an error text. Ignored once the session
   * is over (refused, `shutdown()`, `close()`).
   * @throws {TypeError} when `chunk` is not a Uint8Array
   * @example
   * socket.on('data', (chunk) => session.push(chunk));
   */
  push(chunk: Uint8Array): void {
    assertBytes(chunk, 'chunk');
    if (this.#state === DONE || chunk.length === 0) return;
    if (this.#state === KEY) this.#onKeyBytes(chunk);
    else this.#onCommandBytes(chunk);
  }

  /**
   * The server is closing: what was received has been answered already (answers are written
   * as commands arrive; a command still arriving is dropped), so the transport is ended.
   * Later bytes are ignored.
   * @example
   * signal.addEventListener('abort', () => session.shutdown());
   */
  shutdown(): void {
    if (this.#state === DONE) return;
    this.#stop();
    this.#transport.end();
  }

  /**
   * The client sent nothing for `timeoutMs` after the keys were agreed: the seed wire has no
   * way to say why, so the transport is just ended, and the listener hears a `refused` event
   * with an {@link IdleTimeoutError}. Does nothing before the keys are agreed (the handshake
   * timeout covers that) or once the session is over.
   * @example
   * clock.setTimeout(() => session.idleTimedOut(300_000), 300_000);
   */
  idleTimedOut(timeoutMs: number): void {
    if (this.#state !== READY) return;
    this.#refuse(new IdleTimeoutError(timeoutMs));
  }

  /**
   * The connection is gone: timers stop, nothing more is read or written.
   * @example
   * socket.once('close', () => session.close());
   */
  close(): void {
    this.#stop();
  }

  #onKeyBytes(chunk: Uint8Array): void {
    // The seed client sends its key and then waits for ours: a pause means it is complete.
    this.#keyExchange.push(chunk);
  }

  #agree(peer: number): void {
    if (this.#state !== KEY) return;
    let keys: { privateKey: number; publicKey: number };
    let key: number;
    try {
      keys = createKeyPair(SEED_GROUP, this.#random);
      key = seedCaesarKey(keys.privateKey, peer);
    } catch (err) {
      this.#refuse(toProtocolError(err, 'the seed key exchange failed'));
      return;
    }
    this.#key = key;
    this.#state = READY;
    this.#transport.write([encodeSeedPublicKey(keys.publicKey)]);
    // The seed wire has no way to re-key: serve it, and say so.
    if (key === 0) this.#onEvent(CLEAR_TEXT);
    if (this.#state === READY) this.#onEvent({ type: 'ready', wire: 'seed', key, rounds: 1 });
  }

  #onCommandBytes(chunk: Uint8Array): void {
    // Caesar works byte by byte, so each segment decrypts alone wherever TCP cut the stream.
    const plain = caesarDecryptInPlace(chunk, this.#key);
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#answerAll(this.#commands.push(plain));
    if (this.#state === READY && this.#commands.heldBytes > 0) {
      // The original client sends each command in one piece; should TCP split one anyway,
      // wait briefly for the rest rather than answer two halves as unknown commands.
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        if (this.#state === READY) this.#answerAll(this.#commands.flush());
      }, this.#quietMs);
    }
  }

  #answerAll(commands: readonly string[]): void {
    if (commands.length === 0 || this.#state !== READY) return;
    // Every answer to one segment leaves in one write, and only then are they reported: a
    // listener that shuts the session down on the way must not cut answers already due.
    const parts: Uint8Array[] = [];
    const done: ServerSessionEvent[] = [];
    for (const command of commands) {
      let text = 'ERROR internal error';
      let ok = false;
      const known = isSeedCommand(command);
      if (known) {
        try {
          const answer = this.#answer(command);
          if (typeof answer === 'string') {
            text = answer;
            ok = true;
          }
        } catch {
          // The app's bug, not the client's: answered as an internal error, and served on.
        }
      } else {
        text = `ERROR unknown command ${JSON.stringify(command.slice(0, MAX_ECHO))}`;
      }
      // The seed's client reads one answer per recv, but it also sends one command and waits:
      // only a client that sends several at once gets several answers in one write.
      parts.push(caesarEncryptInPlace(encodeSeedText(text), this.#key));
      done.push(requestEvent('seed', known ? command : 'unknown', ok));
    }
    this.#transport.write(parts);
    for (const event of done) this.#onEvent(event);
  }

  #refuse(error: ProtocolError): void {
    this.#stop();
    // Ended before the listener hears of it, so that a throwing listener cannot keep the
    // connection open.
    this.#transport.end();
    this.#onEvent({ type: 'refused', error, wire: 'seed' });
  }

  #stop(): void {
    this.#state = DONE;
    this.#keyExchange.stop();
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
