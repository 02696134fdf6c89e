/// <reference types="node" />
import type { Duplex } from 'node:stream';
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
    const lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    if (!Number.isInteger(lingerMs) || lingerMs < 0) {
      throw new RangeError(`options.lingerMs must be a non-negative integer, got ${lingerMs}`);
    }
    this.stream = stream;
    this.#lingerMs = lingerMs;
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
    const cork = !this.#delivering && parts.length > 1;
    if (cork) stream.cork();
    let ok = true;
    try {
      for (const part of parts) if (part.length > 0) ok = stream.write(part);
    } finally {
      if (cork) stream.uncork();
    }
    if (!ok && !this.#paused) {
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
   * Destroys the stream at once.
   * @example
   * transport.destroy();
   */
  destroy(): void {
    this.#ended = true;
    this.stream.destroy();
  }
}
