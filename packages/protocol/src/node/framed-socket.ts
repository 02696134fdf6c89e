/// <reference types="node" />
import type { Socket } from 'node:net';
import { assertCipher } from '../assert.ts';
import { DEFAULT_MAX_FRAME_SIZE } from '../constants.ts';
import { FrameDecoder } from '../decoder.ts';
import { assertMaxFrameSize, encodeError, encodeRequest, encodeResponse } from '../encoder.ts';
import { ProtocolError } from '../errors.ts';
import type { FrameCipher } from '../frame-cipher.ts';
import {
  type ClientHelloInit,
  encodeClientHello,
  encodeServerHello,
  type ServerHelloInit,
} from '../hello.ts';
import type { InboundMessage, Role } from '../messages.ts';

/** Options for {@link FramedSocket}. */
export interface FramedSocketOptions<R extends Role> {
  /** `'server'` reads ClientHello then REQUEST frames; `'client'` the other direction. */
  readonly role: R;
  /** Largest body accepted and sent; default 65536. */
  readonly maxFrameSize?: number;
  /**
   * Called for every decoded message. Payloads are views valid only during the call.
   * If it throws, the socket is destroyed with that error (it surfaces as the socket's
   * `'error'` event) rather than being mistaken for bad input.
   */
  readonly onMessage: (message: InboundMessage<R>, framed: FramedSocket<R>) => void;
  /**
   * Called once, for the first bad input; nothing more is decoded afterwards. The caller
   * decides what to do, typically `sendError(error.wireCode, ...)` then `socket.end()`.
   */
  readonly onError: (error: ProtocolError, framed: FramedSocket<R>) => void;
}

const NO_ERROR = Symbol('no error');

/**
 * Binds a {@link FrameDecoder} and the encoder to a `net.Socket`: every `'data'` chunk is
 * decoded (a Buffer is a Uint8Array and goes in as is), and frames are written as their
 * parts inside `cork()`/`uncork()`, encrypted with the current cipher.
 *
 * The adapter neither resumes a paused socket nor closes it: when a server has already
 * read the first bytes itself (to tell the seed wire from ours), it hands them over with
 * `push()` and then calls `socket.resume()`.
 * @example
 * const framed = new FramedSocket(socket, {
 *   role: 'server',
 *   onMessage(msg, framed) {
 *     if (msg.type === 'request') framed.sendResponse(msg.id, Status.OK, 'pong');
 *   },
 *   onError(err, framed) {
 *     framed.sendError(err.wireCode, err.message);
 *     framed.socket.end();
 *   },
 * });
 * framed.push(firstBytes);
 * socket.resume();
 */
export class FramedSocket<R extends Role = Role> {
  /** The socket this adapter reads and writes. */
  readonly socket: Socket;
  readonly #decoder: FrameDecoder<R>;
  readonly #maxFrameSize: number;
  readonly #onMessage: FramedSocketOptions<R>['onMessage'];
  readonly #onError: FramedSocketOptions<R>['onError'];
  #cipher: FrameCipher | null = null;
  #failed = false;
  #callbackError: unknown = NO_ERROR;
  readonly #onData = (chunk: Uint8Array): void => {
    // Whatever the callbacks send for the frames of one chunk leaves in one write: pipelined
    // requests cost one syscall per chunk, not one per answer (measured 1.6x at pipeline 16).
    this.socket.cork();
    try {
      this.push(chunk);
    } finally {
      this.socket.uncork();
    }
  };

  /**
   * Starts listening for `'data'` on `socket`.
   * @throws {TypeError | RangeError} for bad options or a socket with a string encoding
   * @example
   * const framed = new FramedSocket(net.connect(7777), { role: 'client', onMessage, onError });
   */
  constructor(socket: Socket, options: FramedSocketOptions<R>) {
    if (typeof socket !== 'object' || socket === null || typeof socket.write !== 'function') {
      throw new TypeError('socket must be a net.Socket');
    }
    if (socket.readableEncoding !== null) {
      throw new TypeError('socket must not have an encoding set: frames are bytes');
    }
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    if (typeof options.onError !== 'function') {
      throw new TypeError('options.onError must be a function');
    }
    this.socket = socket;
    this.#maxFrameSize = assertMaxFrameSize(
      options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      'options.maxFrameSize',
    );
    this.#onMessage = options.onMessage;
    this.#onError = options.onError;
    this.#decoder = new FrameDecoder<R>({
      role: options.role,
      maxFrameSize: this.#maxFrameSize,
      onMessage: (message) => {
        try {
          this.#onMessage(message, this);
        } catch (err) {
          this.#callbackError = err;
          throw err;
        }
      },
    });
    socket.on('data', this.#onData);
  }

  /**
   * The cipher used for frames sent and received, or `null`.
   * @example
   * framed.cipher?.name; // 'caesar'
   */
  get cipher(): FrameCipher | null {
    return this.#cipher;
  }

  /**
   * Bytes received but not yet decoded into a message.
   * @example
   * socket.on('close', () => { if (framed.bufferedBytes) log('closed inside a frame'); });
   */
  get bufferedBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  /**
   * Whether bad input was seen (after which nothing more is decoded).
   * @example
   * if (framed.failed) return;
   */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Sets the cipher for both directions: frames received after this call (even later in
   * the chunk being decoded) and frames sent after it. Hellos always go in clear.
   * @example
   * framed.sendServerHello({ cipher: CipherId.CAESAR, publicKey });
   * framed.setCipher(caesar(shared % 256));
   */
  setCipher(cipher: FrameCipher | null): void {
    assertCipher('cipher', cipher);
    this.#decoder.setCipher(cipher);
    this.#cipher = cipher ?? null;
  }

  /**
   * Makes the next received message a hello again (re-key after a weak key).
   * @example
   * if (key === 0) { framed.expectHello(); framed.sendClientHello(nextHello); }
   */
  expectHello(): void {
    this.#decoder.expectHello();
  }

  /**
   * Feeds bytes read off the socket by someone else (e.g. the first bytes a server read to
   * detect the wire). Decode errors go to `onError`, not to the caller.
   * @throws {TypeError} when `bytes` is not a Uint8Array
   * @example
   * framed.push(firstBytes);
   * socket.resume();
   */
  push(bytes: Uint8Array): void {
    if (this.#failed) return;
    try {
      this.#decoder.push(bytes);
    } catch (err) {
      if (this.#callbackError !== NO_ERROR) {
        const error = this.#callbackError;
        this.#callbackError = NO_ERROR;
        this.socket.destroy(
          error instanceof Error ? error : new Error('onMessage threw', { cause: error }),
        );
        return;
      }
      if (!(err instanceof ProtocolError)) throw err;
      this.#failed = true;
      this.#onError(err, this);
    }
  }

  /**
   * Writes the parts of one or more frames in a single corked batch. Returns the socket's
   * last `write()` result (false: wait for `'drain'`), or false if it is no longer writable.
   * @example
   * framed.send(encodeResponse(1, Status.OK, 'hi', framed.cipher));
   */
  send(parts: readonly Uint8Array[]): boolean {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return false;
    let ok = true;
    socket.cork();
    try {
      for (const part of parts) if (part.length > 0) ok = socket.write(part);
    } finally {
      socket.uncork();
    }
    return ok;
  }

  /**
   * Sends a ClientHello (always in clear).
   * @example
   * framed.sendClientHello({ cipher: CipherId.CAESAR, publicKey: 146 });
   */
  sendClientHello(init: ClientHelloInit): boolean {
    return this.send([encodeClientHello(init)]);
  }

  /**
   * Sends a ServerHello (always in clear).
   * @example
   * framed.sendServerHello({ cipher: CipherId.CAESAR, publicKey: 190 });
   */
  sendServerHello(init: ServerHelloInit): boolean {
    return this.send([encodeServerHello(init)]);
  }

  /**
   * Encodes and sends a REQUEST with the current cipher.
   * @example
   * framed.sendRequest(1, Command.TIME);
   */
  sendRequest(id: number, command: number, payload?: Uint8Array | string): boolean {
    return this.send(encodeRequest(id, command, payload, this.#cipher, this.#maxFrameSize));
  }

  /**
   * Encodes and sends a RESPONSE with the current cipher.
   * @example
   * framed.sendResponse(msg.id, Status.OK, '2024-05-01');
   */
  sendResponse(id: number, status: number, payload?: Uint8Array | string): boolean {
    return this.send(encodeResponse(id, status, payload, this.#cipher, this.#maxFrameSize));
  }

  /**
   * Encodes and sends a fatal ERROR with the current cipher; the caller closes next.
   * @example
   * framed.sendError(ErrorCode.SHUTTING_DOWN, 'server closing');
   * framed.socket.end();
   */
  sendError(code: number, message?: string): boolean {
    return this.send(encodeError(code, message, this.#cipher, this.#maxFrameSize));
  }

  /**
   * Stops listening for `'data'`; the socket itself is left as it is.
   * @example
   * framed.detach();
   */
  detach(): void {
    this.socket.off('data', this.#onData);
  }
}
