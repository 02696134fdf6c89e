import { createSecureContext, type SecureContext } from 'node:tls';
import { Status } from '@rtt/protocol';
import { connect, type ReplyCallback, type RttClient } from '@rtt/protocol/node';
import type { BenchCommand, BenchWire } from './cli.ts';
import type { LoadConnection, LoadSink } from './load-sink.ts';

let benchTls: Readonly<{ rejectUnauthorized: false; secureContext: SecureContext }> | undefined;

/**
 * The TLS options of every bench connection: the server's certificate is self-signed, and
 * checking it is not what is measured. The handshake's signature is still verified by
 * OpenSSL, so the client does the work any TLS 1.3 client does, and no more: one
 * `SecureContext` serves all of a thread's connections, as an HTTPS agent keeps one. Without
 * it `tls.connect` builds one per connection (OpenSSL's context, the root certificates put
 * into it), measured at about 430 µs of the bench's CPU per handshake (1.69 -> 1.26 ms):
 * work the servers never see, but which took a core from them on a small machine.
 *
 * @example
 * await connect({ host: '127.0.0.1', port: 7777, tls: benchTlsOptions() });
 */
export function benchTlsOptions(): Readonly<{
  rejectUnauthorized: false;
  secureContext: SecureContext;
}> {
  benchTls ??= Object.freeze({
    rejectUnauthorized: false,
    secureContext: createSecureContext({ minVersion: 'TLSv1.3' }),
  });
  return benchTls;
}

/** Options for {@link ClientLoadConnection.open}. */
export interface LoadConnectionOptions {
  ip: string;
  port: number;
  wire: BenchWire;
  command: BenchCommand;
  /** Requests in flight at most (1 = wait for each answer; the seed wire is always 1). */
  pipeline: number;
  /** Time allowed for connecting and the key exchange. */
  timeoutMs: number;
  /** TLS 1.3 around the framed wire, as `--tls` asks (see {@link benchTlsOptions}). */
  tls: boolean;
  sink: LoadSink;
}

/**
 * One connection under load, on either wire, through `@rtt/protocol/node`'s client. It uses
 * the client's callback form (`send`), so a request costs no promise and no text decoding,
 * throughput the generator should leave to the server.
 *
 * @example
 * const connection = await ClientLoadConnection.open({ ip, port, wire: 'framed', command: 'PING', pipeline: 16, timeoutMs: 10_000, sink });
 * connection.run();
 */
export class ClientLoadConnection implements LoadConnection {
  readonly client: RttClient;
  readonly #command: BenchCommand;
  readonly #pipeline: number;
  readonly #sink: LoadSink;
  #inFlight = 0;
  #alive = true;
  #closing = false;
  readonly #onReply: ReplyCallback = (error, status, _payload, rttMs) => {
    if (error !== null) {
      this.#fail(error);
      return;
    }
    this.#inFlight -= 1;
    this.#sink.answered(rttMs, status === Status.OK);
    if (this.#alive && this.#sink.take()) this.#send();
  };

  private constructor(client: RttClient, options: LoadConnectionOptions) {
    this.client = client;
    this.#command = options.command;
    this.#pipeline = options.wire === 'seed' ? 1 : options.pipeline;
    this.#sink = options.sink;
    // A connection lost between requests has no callback to hear it from.
    void client.lost.then((error) => this.#fail(error));
  }

  /**
   * Connects and agrees keys.
   * @example
   * const connection = await ClientLoadConnection.open(options);
   */
  static async open(options: LoadConnectionOptions): Promise<ClientLoadConnection> {
    const client = await connect({
      host: options.ip,
      port: options.port,
      wire: options.wire,
      timeoutMs: options.timeoutMs,
      ...(options.tls ? { tls: benchTlsOptions() } : {}),
    });
    return new ClientLoadConnection(client, options);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get alive(): boolean {
    return this.#alive;
  }

  run(): void {
    if (!this.#alive) return;
    // The first batch leaves in one write; later requests follow each answer inside the
    // client's own cork around the chunk that carried it.
    const stream = this.client.stream;
    stream.cork();
    while (this.#inFlight < this.#pipeline && this.#sink.take()) this.#send();
    stream.uncork();
  }

  #send(): void {
    this.#inFlight += 1;
    this.client.send(this.#command, undefined, this.#onReply);
  }

  #fail(error: Error): void {
    if (!this.#alive) return;
    this.#alive = false;
    const inFlight = this.#inFlight;
    this.#inFlight = 0;
    this.client.stream.destroy();
    if (!this.#closing) this.#sink.lost(this, inFlight, error);
  }

  close(): void {
    this.#closing = true;
    this.#fail(new Error('closed'));
  }
}
