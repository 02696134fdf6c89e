import type { Socket } from 'node:net';
import { ClientError, SeedConnection } from 'client/connections';
import type { LoadConnection, LoadSink } from './load-sink.ts';

export interface SeedLoadOptions {
  command: 'TIME' | 'DATE' | 'TEMP';
  sink: LoadSink;
}

/**
 * A seed-wire connection under load: the original protocol has no ids and no framing, so
 * there is exactly one request in flight, answered by the next read. The client's own
 * `SeedConnection` does the key exchange and the request; a promise per request is cheap
 * next to what the seed wire costs anyway.
 *
 * @example
 * const connection = await SeedLoadConnection.open(socket, { command: 'TIME', sink });
 * connection.run();
 */
export class SeedLoadConnection implements LoadConnection {
  readonly socket: Socket;
  readonly #connection: SeedConnection;
  readonly #options: SeedLoadOptions;
  #inFlight = 0;
  #alive = true;
  #running = false;
  #closing = false;

  private constructor(connection: SeedConnection, options: SeedLoadOptions) {
    this.#connection = connection;
    this.socket = connection.socket;
    this.#options = options;
  }

  /**
   * Exchanges keys on a connected socket, as the original client does.
   *
   * @example
   * const connection = await SeedLoadConnection.open(await openSocket(host, port), options);
   */
  static async open(socket: Socket, options: SeedLoadOptions): Promise<SeedLoadConnection> {
    return new SeedLoadConnection(await SeedConnection.open(socket), options);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get alive(): boolean {
    return this.#alive;
  }

  run(): void {
    if (this.#running || !this.#alive) return;
    this.#running = true;
    void this.#loop();
  }

  async #loop(): Promise<void> {
    const { sink, command } = this.#options;
    try {
      while (this.#alive && sink.take()) {
        this.#inFlight = 1;
        const reply = await this.#connection.request(command);
        this.#inFlight = 0;
        sink.answered(reply.rttMs, reply.ok);
      }
    } catch (err) {
      const inFlight = this.#inFlight;
      this.#inFlight = 0;
      const wasAlive = this.#alive;
      this.#alive = false;
      this.socket.destroy();
      if (wasAlive && !this.#closing) {
        const error = err as Error & { code?: string };
        sink.lost(
          this,
          inFlight,
          new ClientError(error.code ?? 'RTT_ERR_SERVER_GONE', error.message, {
            cause: err,
          }),
        );
      }
    } finally {
      this.#running = false;
    }
  }

  close(): void {
    this.#closing = true;
    this.#alive = false;
    this.socket.destroy();
  }
}
