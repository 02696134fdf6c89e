import type { RandomSource } from '@rtt/cipher';
import { assertFunction } from '@rtt/cipher/assert';
import { CipherId, DEFAULT_MAX_FRAME_SIZE } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import { encodeRequest } from './encoder.ts';
import { NotReadyError, ProtocolError, serverErrorFromFrame, toProtocolError } from './errors.ts';
import { ClientHandshake } from './handshake.ts';
import type { ClientInboundMessage, ServerHelloMessage } from './messages.ts';
import type { SessionTransport } from './session.ts';

/** Options for {@link FramedClientSession}. */
export interface FramedClientSessionOptions {
  /** The cipher id to ask for; default Caesar. */
  readonly cipher?: number | undefined;
  /** Largest frame body accepted and sent; default 65536. */
  readonly maxFrameSize?: number | undefined;
  /** Replaces the platform's randomness for our key pairs, for tests. */
  readonly random?: RandomSource | undefined;
  /** The keys are agreed: requests may be sent. `key` is the Caesar shift (0 for NONE). */
  readonly onReady: (key: number, rounds: number) => void;
  /** A RESPONSE arrived. `payload` is a view valid only during the call. */
  readonly onResponse: (id: number, status: number, payload: Uint8Array) => void;
  /**
   * The session is over, called once: bad data from the server (a {@link ProtocolError}
   * subclass), a refused hello (`HelloRejectedError`), or the server's ERROR frame (a
   * `ServerError`, e.g. SHUTTING_DOWN; a `ServerBusyError` for SERVER_BUSY; a
   * `ConnectionLostError` for IDLE_TIMEOUT). Responses that came before that frame were
   * handed out first. Nothing is read afterwards.
   */
  readonly onFailure: (error: ProtocolError) => void;
}

/**
 * The client's side of one connection on our framed protocol, with no socket in it: sends
 * the ClientHello, says hello again with fresh keys while the shared secret is weak, then
 * sends requests and hands out responses by id. Request ids and timing are the caller's.
 *
 * @example
 * const session = new FramedClientSession(transport, {
 *   onReady: () => session.request(1, Command.TIME),
 *   onResponse: (id, status, payload) => console.log(id, new TextDecoder().decode(payload)),
 *   onFailure: (error) => console.error(error.code),
 * });
 * socket.on('data', (chunk) => session.push(chunk));
 * session.start();
 */
export class FramedClientSession {
  readonly #transport: SessionTransport;
  readonly #maxFrameSize: number;
  readonly #handshake: ClientHandshake;
  readonly #decoder: FrameDecoder<'client'>;
  readonly #options: FramedClientSessionOptions;
  #key = -1;
  #failed = false;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new FramedClientSession(transport, { onReady, onResponse, onFailure });
   */
  constructor(transport: SessionTransport, options: FramedClientSessionOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    for (const name of ['onReady', 'onResponse', 'onFailure'] as const) {
      assertFunction(options[name], `options.${name}`);
    }
    this.#transport = transport;
    this.#options = options;
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#handshake = new ClientHandshake({
      cipher: options.cipher ?? CipherId.CAESAR,
      random: options.random,
    });
    this.#decoder = new FrameDecoder({
      role: 'client',
      maxFrameSize: this.#maxFrameSize,
      onMessage: (message: ClientInboundMessage) => {
        // After a failure, the rest of the chunk being decoded is not read.
        if (this.#failed) return;
        if (message.type === 'response') {
          this.#options.onResponse(message.id, message.status, message.payload);
        } else if (message.type === 'server-hello') {
          this.#onHello(message);
        } else {
          this.#fail(serverErrorFromFrame(message.code, message.message));
        }
      },
    });
  }

  /**
   * Whether the keys are agreed.
   * @example
   * if (session.ready) session.request(1, Command.DATE);
   */
  get ready(): boolean {
    return this.#key >= 0;
  }

  /**
   * The Caesar key agreed (0 for the NONE cipher), or `undefined` before.
   * @example
   * session.key; // 187
   */
  get key(): number | undefined {
    return this.#key >= 0 ? this.#key : undefined;
  }

  /**
   * Hello rounds so far (more than 1 when a weak key forced a re-key).
   * @example
   * session.rounds; // 1
   */
  get rounds(): number {
    return this.#handshake.rounds;
  }

  /**
   * Sends the first ClientHello.
   * @example
   * session.start();
   */
  start(): void {
    if (this.#handshake.rounds === 0) this.#transport.write([this.#handshake.hello()]);
  }

  /**
   * Feeds bytes from the server. Takes ownership of `chunk`. Never throws for bad input: it
   * ends in `onFailure`. An exception from `onResponse` propagates (it is the caller's).
   * @example
   * socket.on('data', (chunk) => session.push(chunk));
   */
  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      if (!this.#failed) this.#fail(err);
    }
  }

  /**
   * Sends one REQUEST. Any number may be in flight; answers come to `onResponse` by id.
   * @throws {NotReadyError} before the keys are agreed or after a failure
   * @throws {RangeError} for an id outside u32, a command outside u8, a payload too large
   * @example
   * session.request(7, Command.PING, 'hello');
   */
  request(id: number, command: number, payload?: Uint8Array | string): void {
    if (this.#key < 0 || this.#failed) throw new NotReadyError();
    this.#transport.write(
      encodeRequest(id, command, payload, this.#decoder.cipher, this.#maxFrameSize),
    );
  }

  /**
   * The connection is gone: nothing more is read.
   * @example
   * socket.once('close', () => session.close());
   */
  close(): void {
    this.#failed = true;
  }

  #onHello(hello: ServerHelloMessage): void {
    let outcome: ReturnType<ClientHandshake['onServerHello']>;
    try {
      outcome = this.#handshake.onServerHello(hello);
    } catch (err) {
      this.#fail(toProtocolError(err, 'the key exchange failed'));
      return;
    }
    if (outcome.type === 'rekey') {
      // Key 0 would be no encryption at all: both sides start again with fresh keys.
      this.#decoder.expectHello();
      try {
        this.#transport.write([this.#handshake.hello()]);
      } catch (err) {
        this.#fail(toProtocolError(err, 'the key exchange failed'));
      }
      return;
    }
    this.#decoder.setCipher(outcome.cipher);
    this.#key = outcome.key;
    this.#options.onReady(outcome.key, this.#handshake.rounds);
  }

  #fail(error: ProtocolError): void {
    this.#failed = true;
    this.#options.onFailure(error);
  }
}
