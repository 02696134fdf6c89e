import type { RandomSource } from '@rtt/cipher';
import { assertFunction, assertInteger } from '@rtt/cipher/assert';
import { CipherId } from './constants.ts';
import { Deadlines, kDeadline, kExpire, kSlot, type Timed } from './deadlines.ts';
import {
  HandshakeTimeoutError,
  type ProtocolError,
  TlsNotEnabledError,
  UnknownWireError,
} from './errors.ts';
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
  /**
   * Cipher ids a framed client may ask for; default Caesar, and NONE where it is allowed (see
   * `allowPlaintext`). Over plain TCP NONE is taken out of this list unless `allowPlaintext`;
   * inside TLS it is always added.
   */
  readonly ciphers?: readonly number[] | undefined;
  /**
   * Accept a framed hello asking for cipher NONE (no Caesar layer) over plain TCP, for
   * experiments; default false: such a hello is answered UNSUPPORTED_CIPHER and reported as
   * `refused`. Inside TLS (after `onTlsHello`), NONE is always accepted.
   */
  readonly allowPlaintext?: boolean | undefined;
  /**
   * Called when the client's first byte is 0x16, a TLS ClientHello, with the bytes pushed that
   * began with it (the caller takes ownership, and owns any bytes not pushed yet). The
   * caller sets up TLS under the connection and returns the transport of the TLS layer: the
   * connection writes there from now on, and expects the caller to push the plaintext the
   * TLS layer reads. Only our framed protocol is served inside, with cipher NONE accepted;
   * the `ready` event says `tls: true`. The handshake timeout counts from the connection's
   * start, so it covers the TLS handshake too. Without this option such a connection is
   * refused with `TlsNotEnabledError` (closed at once, nothing written).
   */
  readonly onTlsHello?: ((firstBytes: Uint8Array) => SessionTransport) | undefined;
  /** The seed wire's quiet period that ends a key or a split command; default 30 ms. */
  readonly seedQuietMs?: number | undefined;
}

type WireSession = FramedServerSession | SeedServerSession;

const noop = () => {};

/**
 * A TLS record of type handshake: how every TLS ClientHello starts. No other wire can start
 * with it (the seed wire starts with a digit, ours with `R`).
 * @internal
 */
export const TLS_HANDSHAKE_RECORD = 0x16;

// The framed ciphers accepted, one frozen array each for the usual cases: no allocation per
// connection.
const WITH_PLAINTEXT: readonly number[] = Object.freeze([CipherId.CAESAR, CipherId.NONE]);
const WITHOUT_PLAINTEXT: readonly number[] = Object.freeze([CipherId.CAESAR]);

function framedCiphers(options: ServerConnectionOptions, insideTls: boolean): readonly number[] {
  const given = options.ciphers;
  if (insideTls || options.allowPlaintext === true) {
    if (given === undefined) return WITH_PLAINTEXT;
    // Inside TLS the NONE cipher is what a client should ask for: never refused there.
    return insideTls && !given.includes(CipherId.NONE) ? [...given, CipherId.NONE] : given;
  }
  // Over plain TCP, NONE would send everything in clear: refused unless allowed.
  if (given === undefined) return WITHOUT_PLAINTEXT;
  return given.includes(CipherId.NONE) ? given.filter((id) => id !== CipherId.NONE) : given;
}

/**
 * The server's side of one accepted connection, whichever wire it speaks, with no socket in
 * it: the first byte tells the seed wire (an ASCII digit) from our framed protocol (`R`) and
 * from TLS (0x16, handed to `onTlsHello`, or refused without it), the matching session serves
 * it, and a client that has not agreed keys within
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
  // Replaced once, by the TLS layer's transport, when the client speaks TLS.
  #transport: SessionTransport;
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
  #insideTls = false;

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
    if (options.onTlsHello !== undefined) assertFunction(options.onTlsHello, 'options.onTlsHello');
    if (options.allowPlaintext !== undefined && typeof options.allowPlaintext !== 'boolean') {
      throw new TypeError('options.allowPlaintext must be a boolean');
    }
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
        // The sessions do not know they run inside TLS; the app's log wants to.
        onEvent(event.type === 'ready' && this.#insideTls ? { ...event, tls: true } : event);
      } catch (err) {
        // The app's bug must not outlive this call: in a socket listener or a timer it would
        // take the whole thread (and every connection on it) down. This connection goes.
        this.#abort(err);
      }
    };
    this.#deadlines.set(this, this.#clock.now() + this.#timeoutMs);
  }

  /**
   * When (`performance.now()`) the bytes being handled now arrived, as the transport noted it
   * (`StreamTransportOptions.stampArrival`, `serveConnection`'s `timeRequests`); NaN when it
   * does not. Read inside a `request` event, it gives that request's time in the server.
   * @example
   * const ms = performance.now() - connection.receivedAt;
   */
  get receivedAt(): number {
    return this.#transport.receivedAt ?? Number.NaN;
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
   * Whether the client speaks TLS (its first byte was 0x16 and `onTlsHello` took it).
   * @example
   * connection.tls; // true
   */
  get tls(): boolean {
    return this.#insideTls;
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
      const first = chunk[0] as number;
      if (first === TLS_HANDSHAKE_RECORD && !this.#insideTls) {
        this.#startTls(chunk, options);
        return;
      }
      const wire = detectWire(chunk);
      if (wire === 'framed') {
        this.#session = new FramedServerSession(this.#transport, {
          answer: options.answer,
          onEvent: this.#onEvent,
          maxFrameSize: options.maxFrameSize,
          ciphers: framedCiphers(options, this.#insideTls),
          random: options.random,
        });
      } else if (wire === 'seed' && !this.#insideTls) {
        this.#session = new SeedServerSession(this.#transport, {
          answer: options.answer,
          onEvent: this.#onEvent,
          clock: this.#clock,
          random: options.random,
          quietMs: options.seedQuietMs,
        });
      } else {
        this.#refuse(new UnknownWireError(first, undefined, this.#insideTls));
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

  /**
   * The layer under the connection failed (a TLS handshake, say): the connection is closed at
   * once and the listener hears a `refused` event with `error`. Does nothing once it is over.
   * @example
   * tlsSocket.once('error', (err) => connection.fail(new TlsError(`TLS handshake failed: ${err.message}`)));
   */
  fail(error: ProtocolError): void {
    if (this.#done) return;
    this.#refuse(error);
  }

  /** @internal Called by {@link Deadlines} when the deadline set last has come. */
  [kExpire](): void {
    if (this.ready) this.#idleCheck();
    else this.#timedOut();
  }

  #startTls(chunk: Uint8Array, options: ServerConnectionOptions): void {
    const onTlsHello = options.onTlsHello;
    if (onTlsHello === undefined) {
      this.#refuse(new TlsNotEnabledError());
      return;
    }
    // The wire is known only once the plaintext starts; until then the handshake deadline
    // runs on, so a client that stalls in its TLS handshake is closed like any other.
    this.#insideTls = true;
    try {
      this.#transport = onTlsHello(chunk);
    } catch (err) {
      this.#abort(err);
    }
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
  #refuse(error: ProtocolError): void {
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
