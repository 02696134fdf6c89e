/// <reference types="node" />
import type { Duplex } from 'node:stream';
import { ServerConnection, type ServerConnectionOptions } from '../server-connection.ts';
import { StreamTransport } from './stream-transport.ts';

/** Options for {@link serveConnection}. */
export interface ServeConnectionOptions extends ServerConnectionOptions {
  /**
   * Aborted when the server is closing: the connection says goodbye as its wire allows. A
   * server holding many connections can call the returned connection's `shutdown()` itself
   * instead: it does the same, and an `AbortSignal` with its listener costs about 0.5 KiB
   * per connection.
   */
  readonly signal?: AbortSignal | undefined;
  /** Bytes already read off the stream by the caller (to route it, say). */
  readonly firstBytes?: Uint8Array | undefined;
  /** After the server ends a connection, how long the client has to close; default 2000 ms. */
  readonly lingerMs?: number | undefined;
  /**
   * The most unsent answer bytes before the client is not read any more until it drains;
   * default 262144 (256 KiB). See `StreamTransportOptions.maxUnsentBytes`.
   */
  readonly maxUnsentBytes?: number | undefined;
  /**
   * The most received bytes handled before other connections get their turn; default 512.
   * See `StreamTransportOptions.maxBytesPerTurn`.
   */
  readonly maxBytesPerTurn?: number | undefined;
}

/**
 * Serves one accepted connection, whichever wire it speaks (seed or framed), handshake
 * included, with Nagle's algorithm off on a TCP socket: the app gives only the answers, and
 * hears of handshakes, requests and refusals through `onEvent`. Resumes the stream (a socket
 * accepted with `pauseOnConnect` arrives paused). Each connection gets a bounded share of the
 * thread (`maxBytesPerTurn`), of memory for unsent answers (`maxUnsentBytes`) and of idle
 * time once its keys are agreed (`idleTimeoutMs`, 5 minutes). The connection ends when the
 * client closes, when it is refused or idle, or when `signal` aborts or the returned
 * connection's `shutdown()` is called: then nothing more is read, the requests already read
 * are answered, and only then does the client get its goodbye (ERROR SHUTTING_DOWN on the
 * framed wire). The stream's `'close'` event tells when it is over.
 *
 * @example
 * import net from 'node:net';
 * import { serveConnection } from '@rtt/protocol/node';
 *
 * net.createServer((socket) => {
 *   socket.on('error', () => {});
 *   serveConnection(socket, {
 *     answer: (command) => (command === 'TIME' ? new Date().toTimeString() : 'n/a'),
 *     onEvent: (event) => { if (event.type === 'refused') console.warn(event.error.message); },
 *   });
 * }).listen(7777);
 */
export function serveConnection(stream: Duplex, options: ServeConnectionOptions): ServerConnection {
  // Answers are small and their latency is the point: Nagle's algorithm would hold an answer
  // back until the previous one is acknowledged, 40 ms with a delayed ACK (measured: a TIME
  // and a CLOCK sent together got their second answer 40 ms late).
  (stream as Duplex & { setNoDelay?: (noDelay: boolean) => unknown }).setNoDelay?.(true);
  const transport = new StreamTransport(stream, {
    lingerMs: options.lingerMs,
    maxUnsentBytes: options.maxUnsentBytes,
    maxBytesPerTurn: options.maxBytesPerTurn,
  });
  const connection = new ServerConnection(transport, options);
  const signal = options.signal;
  if (signal !== undefined) {
    // The transport stops reading first (see ServerConnection.shutdown).
    const onAbort = () => connection.shutdown();
    if (signal.aborted) queueMicrotask(onAbort);
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  transport.attach(connection, options.firstBytes);
  return connection;
}
