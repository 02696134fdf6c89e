import type { ByteCipher } from '@rtt/cipher';
import { assertByteCipher, assertBytes } from '@rtt/cipher/assert';
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  FrameType,
  HELLO_SIZE,
  LENGTH_PREFIX_SIZE,
  MAGIC,
} from './constants.ts';
import { assertMaxFrameSize } from './encoder.ts';
import { BadHelloError, FrameTooLargeError, MalformedFrameError, ProtocolError } from './errors.ts';
import { checkMagicPrefix, decodeClientHello, decodeServerHello } from './hello.ts';
import type { InboundMessage, Role } from './messages.ts';

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions<R extends Role> {
  /**
   * `'server'` decodes a ClientHello then REQUEST frames; `'client'` a ServerHello (or an
   * ERROR frame in its place) then RESPONSE and ERROR frames.
   */
  readonly role: R;
  /** Largest accepted body length; default 65536. */
  readonly maxFrameSize?: number;
  /**
   * Called once per decoded message, synchronously inside `push()`. Payloads are views
   * into the pushed chunks, valid only during the call: copy them to keep them.
   */
  readonly onMessage: (message: InboundMessage<R>) => void;
}

// The three states of the reader; plain numbers keep the hot loop cheap.
const HELLO = 0;
const LENGTH = 1;
const BODY = 2;

const REQUEST_MIN = 6; // type, id u32, command
const RESPONSE_MIN = 6; // type, id u32, status
const ERROR_MIN = 2; // type, code
// The smallest buffer for a body that spans chunks; growing by single bytes would copy often.
const MIN_PARTIAL = 64;

const utf8 = new TextDecoder('utf-8');

/**
 * Incremental decoder for one direction of an rtt connection, after `ws`'s Receiver:
 * it keeps the pushed chunks and a buffered byte count, runs a small state machine
 * (HELLO, LENGTH, BODY), and waits when bytes are missing. Within one chunk it hands out
 * views; it copies only when a frame spans chunks, into a buffer that grows with the bytes
 * received (never allocated at the announced length). A length prefix is checked against
 * `maxFrameSize` before any body byte is kept. Between pushes it keeps no reference to a
 * pushed chunk: the few bytes left over are copied (see {@link FrameDecoder.retainedBytes}).
 *
 * `push()` takes ownership of the chunks it is given: bodies are decrypted in place.
 * The first protocol error is thrown from `push()` and the decoder is dead from then on
 * (every later `push()` throws it again). An exception thrown by `onMessage` propagates
 * from `push()` untouched; that message counts as consumed and the bytes after it are
 * decoded on the next `push()`.
 * @example
 * const decoder = new FrameDecoder({
 *   role: 'server',
 *   onMessage(msg) {
 *     if (msg.type === 'client-hello') decoder.setCipher(caesarFor(msg.publicKey));
 *     else console.log(msg.id, commandName(msg.command));
 *   },
 * });
 * socket.on('data', (chunk) => decoder.push(chunk));
 */
export class FrameDecoder<R extends Role = Role> {
  readonly #role: R;
  readonly #maxFrameSize: number;
  readonly #onMessage: (message: InboundMessage<R>) => void;
  #cipher: ByteCipher | null = null;
  #state = HELLO;
  #chunks: Uint8Array[] = [];
  #chunkBytes = 0;
  #bodyLength = 0;
  // A body that spans chunks is gathered here. It grows with the bytes that arrive, never to
  // the announced length up front: a peer that announces 64 KiB and sends it slowly must cost
  // what it sent, not what it announced.
  #partial: Uint8Array | null = null;
  #partialFilled = 0;
  #error: ProtocolError | null = null;
  #inCallback = false;
  #errorInsteadOfHello = false;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new FrameDecoder({ role: 'client', maxFrameSize: 4096, onMessage: console.log });
   */
  constructor(options: FrameDecoderOptions<R>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    if (options.role !== 'server' && options.role !== 'client') {
      throw new TypeError(`options.role must be 'server' or 'client', got ${String(options.role)}`);
    }
    if (typeof options.onMessage !== 'function') {
      throw new TypeError('options.onMessage must be a function');
    }
    this.#role = options.role;
    this.#maxFrameSize = assertMaxFrameSize(
      options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      'options.maxFrameSize',
    );
    this.#onMessage = options.onMessage;
  }

  /**
   * The role given to the constructor.
   * @example
   * decoder.role; // 'server'
   */
  get role(): R {
    return this.#role;
  }

  /**
   * The body size limit in force.
   * @example
   * decoder.maxFrameSize; // 65536
   */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  /**
   * Bytes received but not yet handed out as a message.
   * @example
   * if (decoder.bufferedBytes > 0) log('connection closed inside a frame');
   */
  get bufferedBytes(): number {
    return this.#chunkBytes + this.#partialFilled;
  }

  /**
   * Bytes of memory the decoder holds between two `push()` calls: the buffer of a frame
   * still arriving (at most 1.5 times its bytes so far, plus 64) and the few bytes of an
   * unfinished length prefix or hello, copied. Never a reference to a pushed chunk.
   * @example
   * decoder.retainedBytes; // 0 between frames
   */
  get retainedBytes(): number {
    return this.#chunkBytes + (this.#partial?.length ?? 0);
  }

  /**
   * Whether the next message expected is a hello.
   * @example
   * decoder.expectingHello; // true before the handshake
   */
  get expectingHello(): boolean {
    return this.#state === HELLO;
  }

  /**
   * The cipher applied to frame bodies, or `null`.
   * @example
   * decoder.cipher?.name; // 'caesar'
   */
  get cipher(): ByteCipher | null {
    return this.#cipher;
  }

  /**
   * Sets the cipher for every frame body completed after this call, including frames
   * later in the chunk being pushed right now (call it from `onMessage` for the hello).
   * Hellos are always cleartext.
   * @example
   * decoder.setCipher(caesar(187));
   * decoder.setCipher(null); // back to cleartext
   */
  setCipher(cipher: ByteCipher | null): void {
    if (cipher !== null && cipher !== undefined) assertByteCipher(cipher, 'cipher');
    this.#cipher = cipher ?? null;
  }

  /**
   * Makes the next message a hello again, for a re-key after a weak shared key. Call it
   * from `onMessage` (or between frames): the bytes right after the current message are
   * then read as a hello.
   * @throws {Error} when called while a frame body is half received
   * @example
   * onMessage(msg) {
   *   if (msg.type === 'server-hello' && sharedKey(msg) % 256 === 0) decoder.expectHello();
   * }
   */
  expectHello(): void {
    // In LENGTH state nothing of the next frame has been consumed yet, so any bytes
    // already buffered can still be read as the hello.
    if (this.#state === BODY) throw new Error('expectHello() called in the middle of a frame');
    this.#state = HELLO;
    this.#errorInsteadOfHello = false;
  }

  /**
   * Feeds received bytes; calls `onMessage` for every message completed by them. Takes
   * ownership of `chunk` (bodies are decrypted in place; do not reuse it).
   * @throws {ProtocolError} a subclass for bad input; the decoder is dead afterwards
   * @example
   * socket.on('data', (chunk) => decoder.push(chunk));
   */
  push(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    assertBytes(chunk, 'chunk');
    if (chunk.length > 0) {
      // Payloads are handed out as plain Uint8Array views even when a Buffer was pushed,
      // so a consumer's `payload.slice()` copies (Buffer#slice would not).
      this.#chunks.push(
        Object.getPrototypeOf(chunk) === Uint8Array.prototype
          ? chunk
          : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      this.#chunkBytes += chunk.length;
    }
    try {
      this.#run();
      this.#compact();
    } catch (err) {
      if (this.#inCallback) {
        // The consumer's own exception: not ours to judge, the decoder stays usable.
        this.#inCallback = false;
        throw err;
      }
      const error =
        err instanceof ProtocolError
          ? err
          : new ProtocolError('frame decoding failed', ErrorCode.INTERNAL, { cause: err });
      this.#fail(error);
      throw error;
    }
  }

  #fail(err: ProtocolError): void {
    this.#error = err;
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#partial = null;
    this.#partialFilled = 0;
  }

  // Re-reads #state and #cipher on every turn: a callback may have changed them.
  #run(): void {
    for (;;) {
      if (this.#state === HELLO) {
        if (!this.#readHello()) return;
      } else if (this.#state === LENGTH) {
        if (this.#chunkBytes < LENGTH_PREFIX_SIZE) return;
        const length = readU32(this.#take(LENGTH_PREFIX_SIZE), 0);
        if (length === 0) throw new MalformedFrameError('zero-length frame');
        if (length > this.#maxFrameSize) throw new FrameTooLargeError(length, this.#maxFrameSize);
        this.#bodyLength = length;
        this.#state = BODY;
      } else {
        const body = this.#readBody();
        if (body === null) return;
        this.#state = LENGTH;
        if (this.#cipher) this.#cipher.decrypt(body);
        const message = this.#parse(body);
        if (this.#errorInsteadOfHello) {
          // Only an ERROR may stand in for the ServerHello, and a hello is still due after it.
          if (message.type !== 'error') {
            throw new MalformedFrameError(`expected a ServerHello, got a ${message.type} frame`);
          }
          this.#errorInsteadOfHello = false;
          this.#state = HELLO;
        }
        this.#deliver(message);
      }
    }
  }

  #readHello(): boolean {
    const first = this.#chunks[0];
    if (first === undefined) return false;
    if (this.#role === 'client' && first[0] !== MAGIC[0]) {
      // A server may refuse before its ServerHello (handshake timeout, shutting down):
      // then an ERROR frame comes instead. A length starting with 0x52 would exceed any
      // sane maxFrameSize, so the first byte tells the two apart.
      this.#state = LENGTH;
      this.#errorInsteadOfHello = true;
      return true;
    }
    // Reject garbage on its first bytes rather than after eight of them.
    const head = first.length >= MAGIC.length ? first : this.#peek(MAGIC.length);
    if (checkMagicPrefix(head) === -1) throw new BadHelloError('bad magic, expected "RTT"');
    if (this.#chunkBytes < HELLO_SIZE) return false;
    const bytes = this.#take(HELLO_SIZE);
    this.#state = LENGTH;
    this.#deliver(
      (this.#role === 'server'
        ? decodeClientHello(bytes)
        : decodeServerHello(bytes)) as InboundMessage<R>,
    );
    return true;
  }

  #readBody(): Uint8Array | null {
    const length = this.#bodyLength;
    if (this.#partial === null) {
      if (this.#chunkBytes >= length) return this.#take(length);
      if (this.#chunkBytes === 0) return null;
    }
    const partial = this.#reserve(Math.min(length, this.#partialFilled + this.#chunkBytes));
    while (this.#partialFilled < length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0] as Uint8Array;
      const n = Math.min(chunk.length, length - this.#partialFilled);
      partial.set(n === chunk.length ? chunk : chunk.subarray(0, n), this.#partialFilled);
      this.#partialFilled += n;
      this.#advance(n);
    }
    if (this.#partialFilled < length) return null;
    this.#partial = null;
    this.#partialFilled = 0;
    // The buffer never grows past the announced length, so a whole body fills it exactly.
    return partial;
  }

  // The partial body's buffer, grown to hold at least `size` bytes (size <= the body length):
  // by half again at least, so that a body dribbled in byte by byte is copied a bounded number
  // of times per byte (linear work), and never past the body length.
  #reserve(size: number): Uint8Array {
    const old = this.#partial;
    if (old !== null && old.length >= size) return old;
    const capacity = Math.min(
      this.#bodyLength,
      Math.max(size, MIN_PARTIAL, old === null ? 0 : old.length + (old.length >> 1)),
    );
    const grown = new Uint8Array(capacity);
    if (old !== null) grown.set(old.subarray(0, this.#partialFilled));
    this.#partial = grown;
    return grown;
  }

  // What is left of the pushed chunks once a push has been decoded is a few bytes at most (a
  // length prefix or hello still arriving: bodies are gathered into their own buffer). They
  // are copied, so that no pushed chunk, often a whole 64 KiB socket read, is kept for them.
  #compact(): void {
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    const rest = new Uint8Array(this.#chunkBytes);
    let filled = 0;
    for (const chunk of chunks) {
      rest.set(chunk, filled);
      filled += chunk.length;
    }
    this.#chunks = [rest];
  }

  #deliver(message: InboundMessage<R>): void {
    this.#inCallback = true;
    this.#onMessage(message);
    this.#inCallback = false;
  }

  #parse(body: Uint8Array): InboundMessage<R> {
    const type = body[0] as number;
    if (this.#role === 'server') {
      if (type !== FrameType.REQUEST) throw this.#badType(type);
      if (body.length < REQUEST_MIN) throw short('REQUEST', body.length, REQUEST_MIN);
      return {
        type: 'request',
        id: readU32(body, 1),
        command: body[5] as number,
        payload: body.subarray(REQUEST_MIN),
      } as InboundMessage<R>;
    }
    if (type === FrameType.RESPONSE) {
      if (body.length < RESPONSE_MIN) throw short('RESPONSE', body.length, RESPONSE_MIN);
      return {
        type: 'response',
        id: readU32(body, 1),
        status: body[5] as number,
        payload: body.subarray(RESPONSE_MIN),
      } as InboundMessage<R>;
    }
    if (type === FrameType.ERROR) {
      if (body.length < ERROR_MIN) throw short('ERROR', body.length, ERROR_MIN);
      return {
        type: 'error',
        code: body[1] as number,
        message: utf8.decode(body.subarray(ERROR_MIN)),
      } as InboundMessage<R>;
    }
    throw this.#badType(type);
  }

  #badType(type: number): MalformedFrameError {
    const known =
      type === FrameType.REQUEST || type === FrameType.RESPONSE || type === FrameType.ERROR;
    return new MalformedFrameError(
      known
        ? `frame type 0x${hex(type)} is not sent to a ${this.#role}`
        : `unknown frame type 0x${hex(type)}`,
    );
  }

  // Removes n bytes from the front; a view when one chunk holds them, a copy otherwise.
  #take(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Uint8Array;
      const k = Math.min(chunk.length, n - filled);
      out.set(k === chunk.length ? chunk : chunk.subarray(0, k), filled);
      filled += k;
      this.#advance(k);
    }
    return out;
  }

  // Copies up to n leading bytes without consuming them (only used for the 3-byte magic).
  #peek(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.#chunkBytes));
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled === out.length) break;
      const k = Math.min(chunk.length, out.length - filled);
      out.set(chunk.subarray(0, k), filled);
      filled += k;
    }
    return out;
  }

  #advance(n: number): void {
    const first = this.#chunks[0] as Uint8Array;
    if (n === first.length) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#chunkBytes -= n;
  }
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] as number) << 24) |
      ((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number)) >>>
    0
  );
}

function short(type: string, length: number, min: number): MalformedFrameError {
  return new MalformedFrameError(`${type} body of ${length} bytes is shorter than ${min}`);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
