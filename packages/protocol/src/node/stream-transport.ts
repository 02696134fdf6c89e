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
   * Stop reading while more than `maxUnsentBytes` of answers wait to be sent, until the
   * stream drains; default true. A server wants this (a client that sends without reading
   * must not make it queue answers without end). A client must not: its requests back up
   * exactly when the server is busy answering, and not reading those answers would stall
   * both sides for good.
   */
  readonly pauseOnBackpressure?: boolean | undefined;
  /**
   * The most bytes read off the stream that are given to the session before the transport
   * yields to the event loop (`setImmediate`), so that one connection sending a flood cannot
   * keep every other connection of the thread waiting; default 512. The rest of a larger
   * chunk waits, the stream paused, for the next turn. 0: no limit (a client, which has no
   * other connection to be fair to).
   */
  readonly maxBytesPerTurn?: number | undefined;
  /**
   * With `pauseOnBackpressure`, the most bytes written and not yet sent (the stream's
   * `writableLength`) before the next bytes read are given to the session; past it the
   * stream is not read until it drains. Default 262144 (256 KiB), as Redis bounds a client's
   * output buffer: a client that sends without reading costs about this plus the answers to
   * one `maxBytesPerTurn` slice. A limit below the stream's high-water mark acts as that mark
   * (`'drain'` only comes once a write has passed it).
   */
  readonly maxUnsentBytes?: number | undefined;
  /**
   * Note when bytes arrive (`performance.now()`), readable as `receivedAt` while the session
   * handles them: what a server's request-latency figure starts from. Default false: one
   * clock read per chunk is paid only by those who ask.
   */
  readonly stampArrival?: boolean | undefined;
}

const DEFAULT_LINGER_MS = 2_000;

/**
 * Default of {@link StreamTransportOptions.maxBytesPerTurn}: 512 bytes, about 40 framed or
 * 128 seed requests. Measured with `pnpm --filter bench attack -- --kind pipeline-noread`
 * (100 clients pipelining without reading, 2 cores): a one-request-at-a-time client's median
 * RTT was 27 ms with 4096, 6.4 ms with 1024, 2.7 ms with 512; 50 connections at pipeline 16
 * lost about 3% of throughput (their reads are smaller than 512 bytes anyway).
 */
export const DEFAULT_MAX_BYTES_PER_TURN = 512;

/** Default of {@link StreamTransportOptions.maxUnsentBytes}: 256 KiB. */
export const DEFAULT_MAX_UNSENT_BYTES = 256 * 1024;

// Where a stream's shared listeners find its transport; the static block of StreamTransport
// makes the listeners.
const kTransport = Symbol('rtt.streamTransport');
type TransportStream = Duplex & { [kTransport]?: StreamTransport | undefined };
let onData: (this: TransportStream, chunk: Uint8Array) => void;
let onDrain: (this: TransportStream) => void;
let onClose: (this: TransportStream) => void;
let onTurn: (transport: StreamTransport) => void;

/**
 * Binds one of this package's sessions to a Node duplex stream (a `net.Socket`, a
 * `tls.TLSSocket`, anything with `write`/`end`/`pause`/`resume`).
 *
 * - **One write per slice.** Whatever the session writes while it is given a slice of the
 *   bytes read leaves in one `stream.write()` (the parts joined into one buffer), so
 *   pipelined requests cost one system call per slice, not one per answer, and unsent
 *   answers are a few buffers, not one object per answer.
 * - **Fairness.** At most `maxBytesPerTurn` bytes are given to the session before the
 *   transport yields to the event loop; the rest of a chunk waits, the stream paused. The
 *   sessions accept any split of the bytes, so nothing else changes.
 * - **Output limit.** Before each slice, a server's transport checks the answers not yet
 *   sent: past `maxUnsentBytes` it stops reading until the stream drains, so a client that
 *   sends without reading costs a bounded amount of memory.
 * - **Endings.** `end()` sends what was written, then FIN; bytes read afterwards are dropped
 *   (never given to the session), and a peer that does not close within `lingerMs` is
 *   destroyed. `stopReading()` lets a server finish what it read before it says goodbye.
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
  readonly #maxBytesPerTurn: number;
  readonly #maxUnsentBytes: number;
  #session: StreamSession | undefined;
  // What the session writes while it is given a slice, sent as one write afterwards.
  #batch: Uint8Array[] | null = null;
  #batchBytes = 0;
  // Bytes read and not yet given to the session (the rest of a chunk cut by the budget).
  // Made only while bytes wait, and dropped once they are delivered: an idle connection,
  // which is most of those a server holds, keeps no array.
  #pending: Uint8Array[] | undefined;
  // Bytes given to the session since the transport last yielded to the event loop.
  #spent = 0;
  #immediate: NodeJS.Immediate | undefined;
  #waitingForDrain = false;
  // Whether the transport paused the stream (for fairness, the output limit, stopReading).
  #paused = false;
  #readingStopped = false;
  #afterStop: (() => void) | undefined;
  #ended = false;
  #linger: NodeJS.Timeout | undefined;
  #detached = false;
  readonly #stampArrival: boolean;
  #receivedAt = Number.NaN;

  // The stream's listeners are the few functions below, shared by every transport: each finds
  // its transport on the stream (`kTransport`) rather than closing over it. Four arrow
  // functions per transport, each with its context, cost about 450 B per connection (heap
  // snapshots of a server holding thousands); `once('close')` would add a wrapper and its
  // state. They are made in this static block, not as static methods, because an emitter calls
  // its listeners with `this` set to the stream, and only code inside the class can reach the
  // transport's private members.
  static {
    onData = function (this: TransportStream, chunk: Uint8Array): void {
      const transport = this[kTransport];
      if (transport !== undefined) transport.#dataIn(chunk);
    };
    onDrain = function (this: TransportStream): void {
      const transport = this[kTransport];
      if (transport === undefined) return;
      transport.#waitingForDrain = false;
      transport.#pump();
    };
    onClose = function (this: TransportStream): void {
      const transport = this[kTransport];
      if (transport === undefined) return;
      this[kTransport] = undefined;
      clearTimeout(transport.#linger);
      transport.#stopPumping();
      this.off('data', onData);
      this.off('close', onClose);
      transport.#session?.close();
    };
    onTurn = (transport: StreamTransport): void => {
      transport.#immediate = undefined;
      transport.#spent = 0;
      transport.#pump();
    };
  }

  /**
   * @throws {TypeError | RangeError} for something that is not a byte stream, or bad options
   * @example
   * new StreamTransport(socket, { lingerMs: 500, maxUnsentBytes: 64 * 1024 });
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
    this.#stampArrival = options.stampArrival === true;
    const perTurn = assertInteger(
      options.maxBytesPerTurn ?? DEFAULT_MAX_BYTES_PER_TURN,
      'options.maxBytesPerTurn',
      0,
      Number.MAX_SAFE_INTEGER,
    );
    this.#maxBytesPerTurn = perTurn === 0 ? Number.POSITIVE_INFINITY : perTurn;
    this.#maxUnsentBytes = assertInteger(
      options.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES,
      'options.maxUnsentBytes',
      0,
      Number.MAX_SAFE_INTEGER,
    );
  }

  /**
   * With `stampArrival`: when (`performance.now()`) the bytes the session is handling were
   * read off the stream; NaN without it. While earlier bytes still wait their turn, it is the
   * arrival of the oldest of them, so a latency measured from it is never too short.
   * @example
   * const latencyMs = performance.now() - transport.receivedAt;
   */
  get receivedAt(): number {
    return this.#receivedAt;
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
   * Bytes read off the stream and not yet given to the session (the rest of a chunk waiting
   * for its turn, or for the stream to drain).
   * @example
   * transport.pendingBytes; // 0 once a chunk is delivered
   */
  get pendingBytes(): number {
    let n = 0;
    for (const chunk of this.#pending ?? []) n += chunk.length;
    return n;
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
    const stream = this.stream as TransportStream;
    stream[kTransport] = this;
    stream.on('data', onData);
    // Not `once`: 'close' comes once anyway, and `once` wraps the listener per connection.
    stream.on('close', onClose);
    if (stream.destroyed) {
      onClose.call(stream);
      return;
    }
    if (firstBytes !== undefined && firstBytes.length > 0) this.#dataIn(firstBytes);
    if (!this.#paused) stream.resume();
  }

  /**
   * Writes the parts of one message. While the session is given a slice of the bytes read,
   * the parts are kept and sent with everything else it writes for that slice, in one write;
   * otherwise they are written at once (corked together).
   * @example
   * transport.write(encodeRequest(1, Command.TIME, undefined, cipher));
   */
  write(parts: readonly Uint8Array[]): void {
    const stream = this.stream;
    if (this.#ended || stream.destroyed || !stream.writable) return;
    const batch = this.#batch;
    if (batch !== null) {
      for (const part of parts) {
        if (part.length === 0) continue;
        batch.push(part);
        this.#batchBytes += part.length;
      }
      return;
    }
    if (parts.length === 1 || (parts.length === 2 && (parts[1] as Uint8Array).length === 0)) {
      // The common case, one part (a request or answer with no payload): no cork needed.
      stream.write(parts[0] as Uint8Array);
      return;
    }
    stream.cork();
    try {
      for (const part of parts) if (part.length > 0) stream.write(part);
    } finally {
      stream.uncork();
    }
  }

  /**
   * Stops reading the stream, for a server that is closing: the bytes already read are still
   * given to the session (at the usual pace, within the output limit), and then `callback`
   * runs, once, so that the session answers everything it received before it says goodbye.
   * Nothing read later reaches the session. Does not call `callback` if the transport ends
   * or the stream closes first (the session is over then anyway).
   * @example
   * signal.addEventListener('abort', () => transport.stopReading(() => connection.shutdown()));
   */
  stopReading(callback: () => void): void {
    if (this.#ended || this.stream.destroyed) return;
    this.#readingStopped = true;
    this.#pause();
    // Called from the session (a listener) in the middle of a slice: the slice is finished
    // first, by #pump.
    if (this.#pending === undefined && this.#batch === null) callback();
    else this.#afterStop = callback;
  }

  /**
   * Ends the stream after what was written (the answers to the slice being delivered
   * included), and destroys it if the peer has not closed its side within the linger time.
   * Bytes read from then on are dropped, never given to the session, but the stream is
   * still read so that the peer's own end is seen.
   * @example
   * transport.end();
   */
  end(): void {
    if (this.#ended) return;
    this.#flush();
    this.#ended = true;
    this.#stopPumping();
    const stream = this.stream;
    if (stream.destroyed) return;
    stream.end();
    // Nothing more will be written or delivered: a peer that never reads keeps nothing paused.
    this.#paused = false;
    stream.resume();
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
    if (this.#detached) return;
    this.#ended = true;
    this.#batch = null;
    this.#stopPumping();
    clearTimeout(this.#linger);
    if (error === undefined) this.stream.destroy();
    else this.stream.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * Lets go of the stream without ending it, for a layer that takes it over (TLS, once a
   * ClientHello is seen): the session is given nothing more, the stream is left paused with
   * none of this transport's listeners, and the bytes read but not yet given to the session
   * are returned, in order, for the new owner to put back (`stream.unshift`). Nothing is
   * written after this, and `end()` and `abort()` do nothing.
   * @example
   * const rest = transport.detach();
   * socket.unshift(Buffer.concat([firstBytes, ...rest]));
   */
  detach(): Uint8Array[] {
    const rest = this.#pending ?? [];
    const stream = this.stream as TransportStream;
    if (stream[kTransport] === this) stream[kTransport] = undefined;
    stream.off('data', onData);
    stream.off('close', onClose);
    this.#stopPumping();
    this.#batch = null;
    this.#batchBytes = 0;
    this.#session = undefined;
    // Ended as far as this transport goes: #pump neither delivers nor resumes any more.
    this.#ended = true;
    this.#detached = true;
    this.#paused = true;
    stream.pause();
    return rest;
  }

  #dataIn(chunk: Uint8Array): void {
    // After end() only the peer's own end matters; after stopReading() nothing more is read.
    if (this.#session === undefined || this.#ended || this.#readingStopped) return;
    if (this.#pending === undefined) {
      this.#pending = [chunk];
      if (this.#stampArrival) this.#receivedAt = performance.now();
    } else this.#pending.push(chunk);
    if (this.#immediate === undefined && !this.#waitingForDrain) this.#pump();
  }

  // Gives the pending bytes to the session, a slice at a time, until they are gone, the turn's
  // budget is spent (then again on the next turn) or the output is over its limit (then again
  // on 'drain').
  #pump(): void {
    for (;;) {
      const pending = this.#pending;
      if (pending === undefined) break;
      if (pending.length === 0) {
        this.#pending = undefined;
        break;
      }
      if (this.#ended) return;
      if (this.#overLimit()) {
        this.#waitingForDrain = true;
        this.#pause();
        this.stream.once('drain', onDrain);
        return;
      }
      const room = this.#maxBytesPerTurn - this.#spent;
      if (room <= 0) {
        this.#pause();
        this.#immediate = setImmediate(onTurn, this);
        return;
      }
      const chunk = pending[0] as Uint8Array;
      let slice = chunk;
      if (chunk.length > room) {
        slice = chunk.subarray(0, room);
        pending[0] = chunk.subarray(room);
      } else {
        pending.shift();
      }
      this.#spent += slice.length;
      this.#deliver(slice);
    }
    const afterStop = this.#afterStop;
    if (afterStop !== undefined) {
      this.#afterStop = undefined;
      afterStop();
    } else if (this.#paused && !this.#readingStopped && !this.#ended) {
      this.#paused = false;
      this.stream.resume();
    }
  }

  #deliver(slice: Uint8Array): void {
    this.#batch = [];
    try {
      (this.#session as StreamSession).push(slice);
    } catch (err) {
      // Bad input never throws out of a session; this is a bug on our side (a listener, a
      // callback). Thrown from a socket listener it would take the whole thread down, and
      // every connection on it: this connection goes instead, with the error.
      this.abort(err);
    } finally {
      this.#flush();
    }
  }

  // Sends what the session wrote for the slice being delivered, in one write.
  #flush(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    const bytes = this.#batchBytes;
    this.#batchBytes = 0;
    const stream = this.stream;
    if (batch.length === 0 || this.#ended || stream.destroyed || !stream.writable) return;
    stream.write(batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch, bytes));
  }

  // 'drain' comes only once a write has passed the high-water mark, so only then is waiting
  // for it safe: a limit below that mark acts as the mark.
  #overLimit(): boolean {
    const stream = this.stream;
    return (
      this.#pauseOnBackpressure &&
      stream.writableLength > this.#maxUnsentBytes &&
      stream.writableNeedDrain
    );
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.stream.pause();
  }

  #stopPumping(): void {
    this.#pending = undefined;
    this.#afterStop = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    if (this.#waitingForDrain) this.stream.off('drain', onDrain);
    this.#waitingForDrain = false;
  }
}
