import type { Socket } from 'node:net';
import {
  ClientHandshake,
  Command,
  type CommandName,
  errorCodeName,
  type ServerHelloMessage,
  Status,
} from '@rtt/protocol';
import { FramedSocket } from '@rtt/protocol/node';
import { ClientError } from 'client/connections';
import type { LoadConnection, LoadSink } from './load-sink.ts';

const MAX_REQUEST_ID = 0xffff_ffff;

export interface FramedLoadOptions {
  command: CommandName;
  /** Requests in flight at most (1 = wait for each answer). */
  pipeline: number;
  sink: LoadSink;
}

/**
 * A framed-protocol connection built for load: it drives `FramedSocket` directly, with no
 * promise or text decoding per request (the interactive client's `FramedConnection` does
 * both, which costs the generator throughput it should leave to the server). Send times sit
 * in a ring indexed by request id, so a pipeline of K costs no allocation per request.
 *
 * @example
 * const connection = await FramedLoadConnection.open(socket, { command: 'PING', pipeline: 16, sink });
 * connection.run();
 */
export class FramedLoadConnection implements LoadConnection {
  readonly socket: Socket;
  readonly #framed: FramedSocket<'client'>;
  readonly #command: number;
  readonly #pipeline: number;
  readonly #sink: LoadSink;
  readonly #mask: number;
  readonly #sentAt: Float64Array;
  readonly #sentId: Uint32Array;
  #nextId = 1;
  #inFlight = 0;
  #alive = true;
  #closing = false;
  readonly #keys = new ClientHandshake();
  #handshake: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(socket: Socket, options: FramedLoadOptions) {
    this.socket = socket;
    this.#command = Command[options.command];
    this.#pipeline = options.pipeline;
    this.#sink = options.sink;
    let size = 1;
    while (size < options.pipeline) size *= 2;
    this.#mask = size - 1;
    this.#sentAt = new Float64Array(size);
    this.#sentId = new Uint32Array(size);
    // Answers that arrive together are followed by their next requests in one write:
    // FramedSocket corks the socket around each received chunk.
    this.#framed = new FramedSocket(socket, {
      role: 'client',
      onMessage: (message) => {
        if (message.type === 'response') this.#onResponse(message.id, message.status);
        else if (message.type === 'server-hello') this.#onHello(message);
        else {
          const name = errorCodeName(message.code) ?? `error ${message.code}`;
          this.#fail(
            new ClientError(
              `RTT_ERR_SERVER_${name}`,
              `the server ended the session: ${message.message || name}`,
            ),
          );
        }
      },
      onError: (error) =>
        this.#fail(new ClientError(error.code, `bad data from the server: ${error.message}`)),
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.#fail(new ClientError(err.code ?? 'RTT_ERR_SOCKET', `connection lost: ${err.message}`)),
    );
    socket.on('close', () =>
      this.#fail(new ClientError('RTT_ERR_SERVER_GONE', 'the server closed the connection')),
    );
  }

  /**
   * Says hello on a connected socket (again while the shared key is weak) and resolves once
   * the Caesar key is agreed.
   *
   * @example
   * const connection = await FramedLoadConnection.open(await openSocket(host, port), options);
   */
  static open(socket: Socket, options: FramedLoadOptions): Promise<FramedLoadConnection> {
    const connection = new FramedLoadConnection(socket, options);
    return new Promise((resolve, reject) => {
      connection.#handshake = { resolve: () => resolve(connection), reject };
      connection.#framed.send([connection.#keys.hello()]);
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get alive(): boolean {
    return this.#alive;
  }

  #onHello(hello: ServerHelloMessage): void {
    try {
      const outcome = this.#keys.onServerHello(hello);
      if (outcome.type === 'rekey') {
        // Key 0 would be no encryption at all: the protocol says hello again with fresh keys.
        this.#framed.expectHello();
        this.#framed.send([this.#keys.hello()]);
        return;
      }
      this.#framed.setCipher(outcome.cipher);
    } catch (err) {
      const error = err as Error & { code?: string };
      this.#fail(
        new ClientError(error.code ?? 'RTT_ERR_HELLO', `hello failed: ${error.message}`, {
          cause: err,
        }),
      );
      return;
    }
    this.#handshake?.resolve();
    this.#handshake = undefined;
  }

  run(): void {
    if (!this.#alive) return;
    this.socket.cork();
    while (this.#inFlight < this.#pipeline && this.#sink.take()) this.#send();
    this.socket.uncork();
  }

  #send(): void {
    const id = this.#nextId;
    this.#nextId = id === MAX_REQUEST_ID ? 1 : id + 1;
    const slot = id & this.#mask;
    this.#sentId[slot] = id;
    this.#sentAt[slot] = performance.now();
    this.#inFlight += 1;
    this.#framed.sendRequest(id, this.#command);
  }

  #onResponse(id: number, status: number): void {
    const now = performance.now();
    const slot = id & this.#mask;
    if (this.#inFlight === 0 || this.#sentId[slot] !== id) {
      this.#fail(new ClientError('RTT_ERR_UNEXPECTED_ID', `answer to request ${id}, never sent`));
      return;
    }
    this.#inFlight -= 1;
    this.#sink.answered(now - (this.#sentAt[slot] as number), status === Status.OK);
    if (this.#alive && this.#sink.take()) this.#send();
  }

  #fail(error: ClientError): void {
    if (!this.#alive) return;
    this.#alive = false;
    const inFlight = this.#inFlight;
    this.#inFlight = 0;
    this.socket.destroy();
    if (this.#handshake !== undefined) {
      this.#handshake.reject(error);
      this.#handshake = undefined;
      return;
    }
    if (!this.#closing) this.#sink.lost(this, inFlight, error);
  }

  close(): void {
    this.#closing = true;
    this.#fail(new ClientError('RTT_ERR_CLOSED', 'closed'));
  }
}
