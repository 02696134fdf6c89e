/// <reference types="node" />
import type { Duplex } from 'node:stream';
import { assertInteger } from '@rtt/cipher/assert';
import type { SessionTransport } from '../session.ts';

/** What a {@link StreamTransport} feeds: any of this package's sessions. */
export interface StreamSession {
  /** Bytes read off the stream; the session owns them from then on. */
  push(chunk: Uint8Array): void;
  /** The stream is gone. */
  close(): void;
}

/** Options for {@link StreamTransport}. */
export interface StreamTransportOptions {
  /**
   * After `end()`, how long the peer has to close its side before the stream is destroyed,
   * in milliseconds; default 2000. A peer that ignores our FIN must not hold a session open.
   */
  readonly lingerMs?: number | undefined;
  /**
   * Stop reading while the stream's write buffer is full, until it drains; default true. A
   * server wants this (a client that sends without reading must not make it queue answers
   * without end). A client must not: its requests back up exactly when the server is busy
   * answering, and not reading those answers would stall both sides for good.
   */
  readonly pauseOnBackpressure?: boolean | undefined;
}

const DEFAULT_LINGER_MS = 2_000;

/**
 * Binds one of this package's sessions to a Node duplex stream (a `net.Socket`, a
 * `tls.TLSSocket`, anything with `write`/`end`/`cork`): every chunk read goes to
 * `session.push()` inside `cork()`/`uncork()`, so whatever the session answers for the
 * messages of one chunk leaves in one write (pipelined requests cost one system call per
 * chunk, not one per answer: measured 1.6x at pipeline 16).
 *
 * Backpressure lives here, as in ws's adapter: when a write is refused (the peer is not
 * reading and the stream's buffer is past its high-water mark) the stream stops being read
 * until it drains, so a client that sends without reading costs at most about one chunk of
 * answers beyond the buffer, never an unbounded queue.
 *
 * @example
 * const transport = new StreamTransport(socket);
 * const session = new FramedServerSession(transport, { answer });
 * transport.attach(session);
 */
export class StreamTransport implements SessionTransport {
  /** The stream read and written. */
  readonly stream: Duplex;
  readonly #lingerMs: number;
  readonly #pauseOnBackpressure: boolean;
  #session: StreamSession | undefined;
  #delivering = false;
  #paused = false;
  #ended = false;
  #linger: NodeJS.Timeout | undefined;
  readonly #onData = (chunk: Uint8Array): void => {
    const session = this.#session;
    if (session === undefined) return;
    this.#delivering = true;
    this.stream.cork();
    try {
      session.push(chunk);
    } catch (err) {
      // Bad input never throws out of a session; this is a bug on our side (a listener, a
      // callback). Thrown from a socket listener it would take the whole thread down, and
      // every connection on it: this connection goes instead, with the error.
      this.abort(err);
    } finally {
      this.#delivering = false;
      this.stream.uncork();
    }
  };
  readonly #onDrain = (): void => {
    this.#paused = false;
    this.stream.resume();
  };
  readonly #onClose = (): void => {
    clearTimeout(this.#linger);
    this.stream.off('data', this.#onData);
    this.stream.off('drain', this.#onDrain);
    this.#session?.close();
  };

  /**
   * @throws {TypeError} for something that is not a byte stream
   * @example
   * new StreamTransport(socket, { lingerMs: 500 });
   */
  constructor(stream: Duplex, options: StreamTransportOptions = {}) {
    if (
      typeof stream !== 'object' ||
      stream === null ||
      typeof stream.write !== 'function' ||
      typeof stream.on !== 'function'
    ) {
      throw new TypeError('stream must be a duplex stream (a net.Socket, say)');
    }
    if (stream.readableEncoding !== null) {
      throw new TypeError('stream must not have an encoding set: the wire is bytes');
    }
    this.stream = stream;
    this.#lingerMs = assertInteger(
      options.lingerMs ?? DEFAULT_LINGER_MS,
      'options.lingerMs',
      0,
      2 ** 31 - 1,
    );
    this.#pauseOnBackpressure = options.pauseOnBackpressure ?? true;
  }

  /**
   * Whether `end()` was called.
   * @example
   * if (!transport.ended) transport.end();
   */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Starts feeding `session` and resumes the stream. `firstBytes`, when given, are bytes a
   * caller already read off the stream (to route it, say); they are pushed first.
   * @throws {Error} when a session is attached already
   * @example
   * transport.attach(session);
   */
  attach(session: StreamSession, firstBytes?: Uint8Array): void {
    if (this.#session !== undefined) throw new Error('a session is attached already');
    this.#session = session;
    const stream = this.stream;
    stream.on('data', this.#onData);
    stream.once('close', this.#onClose);
    if (stream.destroyed) {
      this.#onClose();
      return;
    }
    if (firstBytes !== undefined && firstBytes.length > 0) this.#onData(firstBytes);
    if (!this.#paused) stream.resume();
  }

  /**
   * Writes the parts of one message; corked together unless a received chunk is being
   * delivered (then the whole chunk's answers are corked already).
   * @example
   * transport.write(encodeRequest(1, Command.TIME, undefined, cipher));
   */
  write(parts: readonly Uint8Array[]): void {
    const stream = this.stream;
    if (this.#ended || stream.destroyed || !stream.writable) return;
    let ok = true;
    if (parts.length === 1 || (parts.length === 2 && (parts[1] as Uint8Array).length === 0)) {
      // The common case, one part (a request or answer with no payload): no cork needed.
      ok = stream.write(parts[0] as Uint8Array);
    } else {
      const cork = !this.#delivering;
      if (cork) stream.cork();
      try {
        for (const part of parts) if (part.length > 0) ok = stream.write(part);
      } finally {
        if (cork) stream.uncork();
      }
    }
    if (!ok && !this.#paused && this.#pauseOnBackpressure) {
      this.#paused = true;
      stream.pause();
      stream.once('drain', this.#onDrain);
    }
  }

  /**
   * Ends the stream after what was written, and destroys it if the peer has not closed its
   * side within the linger time. The stream is still read (and the bytes dropped by the
   * session) so that the peer's own end is seen.
   * @example
   * transport.end();
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const stream = this.stream;
    if (stream.destroyed) return;
    stream.end();
    if (this.#paused) {
      // Nothing more will be written, so a peer that never reads may keep nothing paused.
      this.#paused = false;
      stream.off('drain', this.#onDrain);
      stream.resume();
    }
    this.#linger = setTimeout(() => stream.destroy(), this.#lingerMs);
    this.#linger.unref();
  }

  /**
   * Destroys the stream at once, dropping what is unsent; with `error`, the stream emits it
   * as its `'error'` event (a bug on this side, for the owner's log).
   * @example
   * transport.abort();
   */
  abort(error?: unknown): void {
    this.#ended = true;
    clearTimeout(this.#linger);
    if (error === undefined) this.stream.destroy();
    else this.stream.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
