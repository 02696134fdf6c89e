import type net from 'node:net';
import {
  CipherId,
  ClientHandshake,
  Command,
  errorCodeName,
  type ServerHelloMessage,
  Status,
  statusName,
} from '@rtt/protocol';
import { FramedSocket } from '@rtt/protocol/node';
import {
  ClientError,
  type Connection,
  ConnectionEnd,
  type Reply,
  serverGone,
} from './connection.ts';

interface Pending {
  started: number;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

const MAX_REQUEST_ID = 0xffff_ffff;
const decoder = new TextDecoder();

/**
 * Our framed protocol from the client side: hello (again while the key is weak), then
 * requests with ids, any number in flight.
 */
export class FramedConnection implements Connection {
  readonly socket: net.Socket;
  /** The Caesar key agreed (0..255), for `--verbose` output and tests. */
  key = 0;
  readonly #framed: FramedSocket<'client'>;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  readonly #handshake: ClientHandshake;
  readonly #end = new ConnectionEnd();
  #ready: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(socket: net.Socket, cipher: number) {
    this.socket = socket;
    this.#handshake = new ClientHandshake({ cipher });
    this.#framed = new FramedSocket(socket, {
      role: 'client',
      onMessage: (message) => {
        if (message.type === 'server-hello') this.#onHello(message);
        else if (message.type === 'response')
          this.#onResponse(message.id, message.status, message.payload);
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
    socket.on('error', (err) => this.#fail(serverGone(`connection lost: ${err.message}`)));
    socket.on('close', () => this.#fail(serverGone()));
  }

  /**
   * Runs the hello on a connected socket and resolves once a usable key is agreed.
   *
   * @example
   * const connection = await FramedConnection.open(await openSocket('127.0.0.1', 7777));
   * const reply = await connection.request('TIME');
   */
  static open(socket: net.Socket, cipher: number = CipherId.CAESAR): Promise<FramedConnection> {
    const connection = new FramedConnection(socket, cipher);
    return new Promise((resolve, reject) => {
      connection.#ready = { resolve: () => resolve(connection), reject };
      connection.#framed.send([connection.#handshake.hello()]);
    });
  }

  #onHello(hello: ServerHelloMessage): void {
    try {
      const outcome = this.#handshake.onServerHello(hello);
      if (outcome.type === 'rekey') {
        // Key 0 would be no encryption at all: both sides start again with fresh keys.
        this.#framed.expectHello();
        this.#framed.send([this.#handshake.hello()]);
        return;
      }
      this.key = outcome.key;
      this.#framed.setCipher(outcome.cipher);
    } catch (err) {
      const error = err as Error & { code?: string };
      this.#fail(
        new ClientError(error.code ?? 'RTT_ERR_HELLO', `the key exchange failed: ${error.message}`),
      );
      return;
    }
    this.#ready?.resolve();
    this.#ready = undefined;
  }

  #onResponse(id: number, status: number, payload: Uint8Array): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    const text = decoder.decode(payload);
    const rttMs = performance.now() - pending.started;
    pending.resolve({
      ok: status === Status.OK,
      text: status === Status.OK ? text : `${statusName(status) ?? status}: ${text}`,
      rttMs,
    });
  }

  #fail(error: Error): void {
    if (!this.#end.fail(error)) return;
    this.#ready?.reject(error);
    this.#ready = undefined;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.socket.destroy();
  }

  /**
   * Sends one command and resolves with the answer and its round-trip time.
   *
   * @example
   * const { text, rttMs } = await connection.request('DATE');
   */
  request(
    command: 'TIME' | 'DATE' | 'TEMP' | 'PING',
    payload?: Uint8Array | string,
  ): Promise<Reply> {
    const failure = this.#end.failure;
    if (failure !== undefined) return Promise.reject(failure);
    const id = this.#nextId;
    this.#nextId = id === MAX_REQUEST_ID ? 1 : id + 1;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { started: performance.now(), resolve, reject });
      this.#framed.sendRequest(id, Command[command], payload);
    });
  }

  /** Requests awaiting their answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Settles when the server ends the connection: with the reason, never rejecting. */
  get lost(): Promise<Error> {
    return this.#end.lost;
  }

  close(): Promise<void> {
    return this.#end.close(this.socket);
  }
}
