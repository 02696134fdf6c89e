import type { RandomSource } from '@rtt/cipher';
import { assertFunction } from '@rtt/cipher/assert';
import { nowMicros } from './answers.ts';
import { Command, DEFAULT_MAX_FRAME_SIZE, Status } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import { encodeError, encodeResponse } from './encoder.ts';
import {
  HandshakeTimeoutError,
  IdleTimeoutError,
  ProtocolError,
  ShuttingDownError,
} from './errors.ts';
import { ServerHandshake } from './handshake.ts';
import type { ClientHelloMessage, RequestMessage, ServerInboundMessage } from './messages.ts';
import {
  type AnsweredCommand,
  type Answerer,
  type RequestCommand,
  requestEvent,
  type ServerSessionListener,
  type SessionTransport,
} from './session.ts';

/** Options for {@link FramedServerSession}. */
export interface FramedServerSessionOptions {
  /** The answer text for TIME, DATE and TEMP. */
  readonly answer: Answerer;
  /** Told of handshakes, requests and refusals, for logs and counters. */
  readonly onEvent?: ServerSessionListener | undefined;
  /** Largest frame body accepted and sent; default 65536. */
  readonly maxFrameSize?: number | undefined;
  /** Cipher ids a client may ask for; default: what {@link ServerHandshake} accepts. */
  readonly ciphers?: readonly number[] | undefined;
  /** Replaces the platform's randomness for the server's key pairs, for tests. */
  readonly random?: RandomSource | undefined;
}

// The answered commands by code; PING is the session's own (an echo), anything else unknown.
const ANSWERED: ReadonlyMap<number, AnsweredCommand> = new Map([
  [Command.TIME, 'TIME'],
  [Command.DATE, 'DATE'],
  [Command.TEMP, 'TEMP'],
]);

const noop = () => {};

/**
 * The server's side of one connection on our framed protocol, with no socket in it: the hello
 * (re-keyed while the shared secret is weak, at most `MAX_HELLO_ROUNDS` rounds), then every
 * REQUEST answered by id (PING echoed, CLOCK with the epoch in microseconds, unknown codes
 * answered UNKNOWN_COMMAND, the rest by the app's `answer`). Bad input is answered as docs/PROTOCOL.md says (a refusing ServerHello or an
 * ERROR frame) and the transport is ended; nothing is read or written after that.
 *
 * @example
 * const session = new FramedServerSession(transport, { answer: (command) => `${command}!` });
 * socket.on('data', (chunk) => session.push(chunk));
 */
export class FramedServerSession {
  readonly #transport: SessionTransport;
  readonly #answer: Answerer;
  readonly #onEvent: ServerSessionListener;
  readonly #maxFrameSize: number;
  // Dropped once the keys are agreed: a held connection keeps only what serving needs.
  #handshake: ServerHandshake | undefined;
  readonly #decoder: FrameDecoder<'server'>;
  #key = -1;
  #done = false;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new FramedServerSession(transport, { answer, onEvent: (event) => log(event.type) });
   */
  constructor(transport: SessionTransport, options: FramedServerSessionOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    assertFunction(options.answer, 'options.answer');
    if (options.onEvent !== undefined) assertFunction(options.onEvent, 'options.onEvent');
    this.#transport = transport;
    this.#answer = options.answer;
    this.#onEvent = options.onEvent ?? noop;
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#handshake = new ServerHandshake({ ciphers: options.ciphers, random: options.random });
    this.#decoder = new FrameDecoder({
      role: 'server',
      maxFrameSize: this.#maxFrameSize,
      onMessage: (message: ServerInboundMessage) => {
        // Once refused or shut down, the rest of the chunk being decoded is not read.
        if (this.#done) return;
        if (message.type === 'request') this.#onRequest(message);
        else this.#onHello(message);
      },
    });
  }

  /**
   * Whether the keys are agreed and requests are being answered.
   * @example
   * if (!session.ready) session.handshakeTimedOut();
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
   * Bytes received and not yet decoded (a frame still arriving).
   * @example
   * session.bufferedBytes; // 0 between frames
   */
  get bufferedBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  /**
   * Feeds bytes from the client; answers go to the transport. Takes ownership of `chunk`
   * (bodies are decrypted in place). Never throws for bad input: it is refused and the
   * transport ended. An exception from the event listener propagates.
   * @example
   * socket.on('data', (chunk) => session.push(chunk));
   */
  push(chunk: Uint8Array): void {
    if (this.#done) return;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      // The decoder's errors are the client's fault; anything else came from our own side
      // (the event listener) and is not the client's to be refused for.
      if (!(err instanceof ProtocolError)) throw err;
      if (!this.#done) this.#refuse(err);
    }
  }

  /**
   * The handshake took too long: the client is told (an ERROR frame in clear) and the
   * connection ended. Does nothing once the keys are agreed.
   * @example
   * clock.setTimeout(() => session.handshakeTimedOut(5_000), 5_000);
   */
  handshakeTimedOut(timeoutMs: number): void {
    if (this.#done || this.ready) return;
    this.#refuse(new HandshakeTimeoutError(timeoutMs));
  }

  /**
   * The client sent nothing for `timeoutMs` after the keys were agreed: it is told (an ERROR
   * frame IDLE_TIMEOUT, encrypted), the connection ended, and the listener hears a `refused`
   * event with an {@link IdleTimeoutError}. Does nothing before the keys are agreed.
   * @example
   * clock.setTimeout(() => session.idleTimedOut(300_000), 300_000);
   */
  idleTimedOut(timeoutMs: number): void {
    if (this.#done || !this.ready) return;
    this.#refuse(new IdleTimeoutError(timeoutMs));
  }

  /**
   * The server is closing: every request already received has been answered (answers are
   * written as requests arrive), so the client gets SHUTTING_DOWN after the last answer and
   * the connection ends. Every request the client sent that has no answer before that frame
   * was not processed (a frame still arriving is dropped). Later bytes are ignored.
   * @example
   * signal.addEventListener('abort', () => session.shutdown());
   */
  shutdown(): void {
    if (this.#done) return;
    this.#end(new ShuttingDownError());
  }

  /**
   * The connection is gone: nothing more is read or written.
   * @example
   * socket.once('close', () => session.close());
   */
  close(): void {
    this.#done = true;
  }

  #onHello(hello: ClientHelloMessage): void {
    // The decoder hands out a hello only while one is expected, that is before the keys.
    const handshake = this.#handshake as ServerHandshake;
    const result = handshake.onClientHello(hello);
    if (result.error) {
      // A refusing ServerHello where the hello itself was wrong, else an ERROR frame.
      if (result.reply) {
        this.#transport.write([result.reply]);
        this.#finish();
        this.#onEvent({ type: 'refused', error: result.error, wire: 'framed' });
      } else {
        this.#refuse(result.error);
      }
      return;
    }
    this.#transport.write([result.reply]);
    const outcome = result.outcome;
    if (outcome.type === 'rekey') {
      this.#decoder.expectHello();
      this.#onEvent({ type: 'rekey', round: handshake.rounds });
      return;
    }
    this.#decoder.setCipher(outcome.cipher);
    this.#key = outcome.key;
    this.#handshake = undefined;
    this.#onEvent({
      type: 'ready',
      wire: 'framed',
      key: outcome.key,
      rounds: handshake.rounds,
    });
  }

  #onRequest(request: RequestMessage): void {
    const { id, command } = request;
    const cipher = this.#decoder.cipher;
    let parts: Uint8Array[];
    let ok = true;
    let name: RequestCommand;
    if (command === Command.PING) {
      name = 'PING';
      // A PING's payload fits: it came in a frame of at most the same size.
      parts = encodeResponse(id, Status.OK, request.payload, cipher, this.#maxFrameSize);
    } else if (command === Command.CLOCK) {
      name = 'CLOCK';
      parts = encodeResponse(id, Status.OK, String(nowMicros()), cipher, this.#maxFrameSize);
    } else {
      const answered = ANSWERED.get(command);
      if (answered === undefined) {
        // As docs/PROTOCOL.md shows it: the code, in decimal.
        name = 'unknown';
        ok = false;
        parts = encodeResponse(
          id,
          Status.UNKNOWN_COMMAND,
          `unknown command ${command}`,
          cipher,
          this.#maxFrameSize,
        );
      } else {
        name = answered;
        try {
          // The app's answer is encoded here too: one that is no string, or too long for a
          // frame, is the app's bug, answered as such; the client is not refused for it.
          parts = encodeResponse(id, Status.OK, this.#answer(answered), cipher, this.#maxFrameSize);
        } catch {
          ok = false;
          parts = encodeResponse(id, Status.INTERNAL_ERROR, 'internal error', cipher);
        }
      }
    }
    this.#transport.write(parts);
    this.#onEvent(requestEvent('framed', name, ok));
  }

  // Tells the client why (ERROR frame, encrypted once keys are agreed) and ends; the
  // listener hears of it last, so that a listener that throws cannot keep the connection.
  #refuse(error: ProtocolError): void {
    this.#end(error);
    this.#onEvent({ type: 'refused', error, wire: 'framed' });
  }

  #end(error: ProtocolError): void {
    this.#transport.write(
      encodeError(error.wireCode, error.message, this.#decoder.cipher, this.#maxFrameSize),
    );
    this.#finish();
  }

  #finish(): void {
    this.#done = true;
    this.#transport.end();
  }
}
