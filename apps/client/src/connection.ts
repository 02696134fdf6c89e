import net from 'node:net';

/** One answer with its round-trip time. */
export interface Reply {
  /** True when the server answered the command (status OK on the framed protocol). */
  ok: boolean;
  text: string;
  /** Milliseconds from just before the send to just after the answer was decoded. */
  rttMs: number;
}

/** What the menu needs of a connection, whichever wire it speaks. */
export interface Connection {
  readonly socket: net.Socket;
  /** Sends `TIME`, `DATE` or `TEMP` and waits for the answer. */
  request(command: 'TIME' | 'DATE' | 'TEMP'): Promise<Reply>;
  /** Settles when the server ends the connection: with the reason, never rejecting. */
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}

/** A failure the client reports as one line and a non-zero exit. */
export class ClientError extends Error {
  readonly code: string;
  override name = 'ClientError';
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'no such host',
};

/**
 * Opens a TCP connection, turning the usual failures into one readable `ClientError`.
 *
 * @example
 * const socket = await openSocket('127.0.0.1', 7777);
 */
export function openSocket(host: string, port: number, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const fail = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      const why = CONNECT_ERRORS[err.code ?? ''] ?? err.message;
      reject(
        new ClientError('RTT_ERR_CONNECT', `cannot connect to ${host} port ${port}: ${why}`, {
          cause: err,
        }),
      );
    };
    socket.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/**
 * The error for a server that went away while we waited.
 *
 * @example
 * socket.once('close', () => reject(serverGone()));
 */
export function serverGone(detail = 'the server closed the connection'): ClientError {
  return new ClientError('RTT_ERR_SERVER_GONE', detail);
}

/**
 * How a connection ends, kept once for both wires: the first failure wins, `lost` reports it
 * unless the connection was closed on purpose, and a closed connection refuses new requests.
 *
 * @example
 * readonly #end = new ConnectionEnd();
 * socket.on('close', () => this.#end.fail(serverGone()));
 * close() { return this.#end.close(this.socket); }
 */
export class ConnectionEnd {
  #failure: Error | undefined;
  #closing = false;
  #reportLost: (error: Error) => void = () => {};
  /** Settles when the server ends the connection: with the reason, never rejecting. */
  readonly lost = new Promise<Error>((resolve) => {
    this.#reportLost = resolve;
  });

  /** Why the connection can no longer serve requests, once it cannot. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Records a failure; returns false when one was recorded already. */
  fail(error: Error): boolean {
    if (this.#failure !== undefined) return false;
    this.#failure = error;
    if (!this.#closing) this.#reportLost(error);
    return true;
  }

  /** Ends the socket on purpose: nothing is reported as lost, later requests are refused. */
  close(socket: net.Socket): Promise<void> {
    this.#closing = true;
    this.#failure ??= new ClientError('RTT_ERR_CLOSED', 'the connection is closed');
    return new Promise((resolve) => {
      if (socket.destroyed) resolve();
      else socket.end(() => resolve());
    });
  }
}
