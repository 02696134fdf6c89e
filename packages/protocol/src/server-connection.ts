import type { RandomSource } from '@rtt/cipher';
import { assertFunction, assertInteger } from '@rtt/cipher/assert';
import { Deadlines, kDeadline, kExpire, kSlot, type Timed } from './deadlines.ts';
import { HandshakeTimeoutError, UnknownWireError } from './errors.ts';
import { FramedServerSession } from './framed-server-session.ts';
import { SeedServerSession } from './seed-server-session.ts';
import { detectWire } from './seed-wire.ts';
import {
  type Answerer,
  assertClock,
  type Clock,
  type ServerSessionEvent,
  type ServerSessionListener,
  type SessionTransport,
  type Wire,
} from './session.ts';

/** Default time a client has to finish its key exchange, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;

/** Default time a client with agreed keys may send nothing before it is closed: 5 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** Options for {@link ServerConnection}. */
export interface ServerConnectionOptions {
  /** The answer text for TIME, DATE and TEMP. */
  readonly answer: Answerer;
  /** Told of handshakes, requests and refusals, for logs and counters. */
  readonly onEvent?: ServerSessionListener | undefined;
  /** Time allowed from the connection's start to agreed keys; default 5000 ms. */
  readonly handshakeTimeoutMs?: number | undefined;
  /**
   * Once the keys are agreed, how long the client may send nothing (counted from the last
   * bytes received) before the connection is closed: on the framed wire with an ERROR frame
   * IDLE_TIMEOUT, on the seed wire silently. A `refused` event with an `IdleTimeoutError`
   * reports it. Default 300000 ms (5 minutes); 0 turns it off.
   */
  readonly idleTimeoutMs?: number | undefined;
  /** Timers and time; default {@link systemClock}. */
  readonly clock?: Clock | undefined;
  /** Replaces the platform's randomness for the server's key pairs, for tests. */
  readonly random?: RandomSource | undefined;
  /** Largest frame body accepted and sent on the framed wire; default 65536. */
  readonly maxFrameSize?: number | undefined;
  /** Cipher ids a framed client may ask for; default: what `ServerHandshake` accepts. */
  readonly ciphers?: readonly number[] | undefined;
  /** The seed wire's quiet period that ends a key or a split command; default 30 ms. */
  readonly seedQuietMs?: number | undefined;
}

type WireSession = FramedServerSession | SeedServerSession;

const noop = () => {};

/**
 * The server's side of one accepted connection, whichever wire it speaks, with no socket in
 * it: the first byte tells the seed wire (an ASCII digit) from our framed protocol (`R`), the
 * matching session serves it, and a client that has not agreed keys within
 * `handshakeTimeoutMs` is closed (told so with an ERROR frame on the framed wire), as is one
 * that then sends nothing for `idleTimeoutMs`. Anything else is refused with
 * `RTT_ERR_UNKNOWN_WIRE`. The app supplies only the answers.
 *
 * @example
 * const connection = new ServerConnection(transport, {
 *   answer: (command) => (command === 'DATE' ? formatDate() : formatTime()),
 *   onEvent: (event) => { if (event.type === 'refused') log(event.error.message); },
 * });
 * socket.on('data', (chunk) => connection.push(chunk));
 * socket.once('close', () => connection.close());
 */
export class ServerConnection implements Timed {
  readonly #transport: SessionTransport;
  // Only until the wire is known: the session made then keeps what it needs.
  #options: ServerConnectionOptions | undefined;
  readonly #clock: Clock;
  readonly #onEvent: ServerSessionListener;
  readonly #timeoutMs: number;
  readonly #idleTimeoutMs: number;
  #session: WireSession | undefined;
  // The handshake deadline, then the idle one (never both), kept in the clock's queue rather
  // than as a timer per connection (see Deadlines).
  readonly #deadlines: Deadlines;
  /** @internal The deadline, for {@link Deadlines}. */
  [kDeadline] = 0;
  /** @internal The place in the deadline queue, for {@link Deadlines}. */
  [kSlot] = -1;
  // When bytes last came, for the idle deadline: recorded on every push, looked at only when
  // the deadline comes (which is then set again for the rest), so a busy connection costs no
  // timer work per chunk.
  #lastActivity = 0;
  #done = false;

  /**
   * Starts the handshake timer.
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new ServerConnection(transport, { answer, handshakeTimeoutMs: 2_000 });
   */
  constructor(transport: SessionTransport, options: ServerConnectionOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    assertFunction(options.answer, 'options.answer');
    if (options.onEvent !== undefined) assertFunction(options.onEvent, 'options.onEvent');
    // Node's timers hold at most 2^31 - 1 ms; past that they would fire at once.
    this.#timeoutMs = assertInteger(
      options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      'options.handshakeTimeoutMs',
      1,
      2 ** 31 - 1,
    );
    this.#idleTimeoutMs = assertInteger(
      options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      'options.idleTimeoutMs',
      0,
      2 ** 31 - 1,
    );
    this.#transport = transport;
    this.#options = options;
    this.#clock = assertClock(options.clock, 'options.clock');
    const onEvent = options.onEvent ?? noop;
    this.#deadlines = Deadlines.of(this.#clock);
    this.#onEvent = (event: ServerSessionEvent) => {
      if (event.type === 'ready' || event.type === 'refused') this.#deadlines.clear(this);
      if (event.type === 'refused') this.#done = true;
      else if (event.type === 'ready' && this.#idleTimeoutMs > 0) {
        this.#lastActivity = this.#clock.now();
        this.#deadlines.set(this, this.#lastActivity + this.#idleTimeoutMs);
      }
      try {
        onEvent(event);
      } catch (err) {
        // The app's bug must not outlive this call: in a socket listener or a timer it would
        // take the whole thread (and every connection on it) down. This connection goes.
        this.#abort(err);
      }
    };
    this.#deadlines.set(this, this.#clock.now() + this.#timeoutMs);
  }

  /**
   * The wire the client speaks, once its first byte has arrived.
   * @example
   * connection.wire; // 'seed'
   */
  get wire(): Wire | undefined {
    return this.#session instanceof FramedServerSession
      ? 'framed'
      : this.#session === undefined
        ? undefined
        : 'seed';
  }

  /**
   * Whether the keys are agreed.
   * @example
   * connection.ready; // true once the hello is answered
   */
  get ready(): boolean {
    return this.#session?.ready ?? false;
  }

  /**
   * Feeds bytes from the client. Takes ownership of `chunk`. Never throws for bad input.
   * @example
   * socket.on('data', (chunk) => connection.push(chunk));
   */
  push(chunk: Uint8Array): void {
    if (this.#done) return;
    this.#lastActivity = this.#clock.now();
    if (this.#session === undefined) {
      if (chunk.length === 0) return;
      const options = this.#options as ServerConnectionOptions;
      const wire = detectWire(chunk);
      if (wire === 'framed') {
        this.#session = new FramedServerSession(this.#transport, {
          answer: options.answer,
          onEvent: this.#onEvent,
          maxFrameSize: options.maxFrameSize,
          ciphers: options.ciphers,
          random: options.random,
        });
      } else if (wire === 'seed') {
        this.#session = new SeedServerSession(this.#transport, {
          answer: options.answer,
          onEvent: this.#onEvent,
          clock: this.#clock,
          random: options.random,
          quietMs: options.seedQuietMs,
        });
      } else {
        this.#refuse(new UnknownWireError(chunk[0] as number));
        return;
      }
      this.#options = undefined;
    }
    this.#session.push(chunk);
  }

  /**
   * The server is closing: the session says goodbye as its wire allows and ends. With a
   * transport that can stop reading (`StreamTransport`), nothing more is read, the requests
   * already read are answered first, and only then does the client get its goodbye (ERROR
   * SHUTTING_DOWN on the framed wire), so that it can tell exactly which of its requests
   * were served.
   * @example
   * control.onShutdown(() => connection.shutdown());
   */
  shutdown(): void {
    if (this.#done) return;
    const transport = this.#transport;
    if (transport.stopReading === undefined) this.#goodbye();
    else transport.stopReading(() => this.#goodbye());
  }

  /**
   * The connection is gone: timers stop, nothing more is read or written.
   * @example
   * socket.once('close', () => connection.close());
   */
  close(): void {
    this.#done = true;
    this.#deadlines.clear(this);
    this.#session?.close();
  }

  /** @internal Called by {@link Deadlines} when the deadline set last has come. */
  [kExpire](): void {
    if (this.ready) this.#idleCheck();
    else this.#timedOut();
  }

  #goodbye(): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadlines.clear(this);
    // A client that has not said a word is owed nothing: it is closed at once.
    if (this.#session === undefined) this.#close();
    else this.#session.shutdown();
  }

  #timedOut(): void {
    if (this.#done || this.ready) return;
    if (this.#session instanceof FramedServerSession) {
      // Our protocol can say why (an ERROR frame, in clear); the seed wire cannot.
      this.#session.handshakeTimedOut(this.#timeoutMs);
      this.#done = true;
      return;
    }
    this.#refuse(new HandshakeTimeoutError(this.#timeoutMs));
  }

  #idleCheck(): void {
    if (this.#done) return;
    const idle = this.#clock.now() - this.#lastActivity;
    if (idle < this.#idleTimeoutMs) {
      this.#deadlines.set(this, this.#lastActivity + this.#idleTimeoutMs);
      return;
    }
    // The session says goodbye as its wire allows, ends, and reports it (as `refused`).
    this.#session?.idleTimedOut(this.#idleTimeoutMs);
  }

  // Garbage and silence get no answer: the connection is closed at once, not lingered on.
  #refuse(error: HandshakeTimeoutError | UnknownWireError): void {
    this.#done = true;
    this.#deadlines.clear(this);
    this.#session?.close();
    this.#close();
    this.#onEvent({ type: 'refused', error, wire: this.wire });
  }

  #close(error?: unknown): void {
    if (this.#transport.abort) this.#transport.abort(error);
    else this.#transport.end();
  }

  #abort(error: unknown): void {
    this.#done = true;
    this.#deadlines.clear(this);
    this.#session?.close();
    this.#close(error);
  }
}
