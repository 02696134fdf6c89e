/// <reference types="node" />
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { TlsError } from '../errors.ts';
import { ServerConnection, type ServerConnectionOptions } from '../server-connection.ts';
import { StreamTransport, type StreamTransportOptions } from './stream-transport.ts';
import { tlsReason } from './tls.ts';

/** TLS on the same port, for {@link serveConnection}'s `tls` option. */
export interface ServeTlsOptions {
  /**
   * The server's certificate and key. Make it with `minVersion: 'TLSv1.3'`: a client that
   * settles for less is then refused in the handshake itself. (One that got through anyway,
   * with a context allowing TLS 1.2, is refused right after it, before a byte of ours.)
   */
  readonly secureContext: tls.SecureContext;
  /**
   * Each TLS secret as a line of the NSS key log format (`CLIENT_HANDSHAKE_TRAFFIC_SECRET
   * <client random> <secret>` and so on, with its newline), for Wireshark: Node's `'keylog'`
   * event. Append the lines to the SSLKEYLOGFILE; anyone with them can read the traffic.
   */
  readonly onKeylog?: ((line: Buffer) => void) | undefined;
}

/** Options for {@link serveConnection}. */
export interface ServeConnectionOptions extends Omit<ServerConnectionOptions, 'onTlsHello'> {
  /**
   * Serve TLS 1.3 too, on the same stream: a client whose first byte is 0x16 (a TLS
   * ClientHello) gets a TLS server socket set up over the stream, and our framed protocol
   * inside it, with cipher NONE accepted (see `ServerConnectionOptions.onTlsHello`). Without
   * it such a client is refused with `TlsNotEnabledError`.
   */
  readonly tls?: ServeTlsOptions | undefined;
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
  /**
   * Note when each chunk arrives, so that the returned connection's `receivedAt`, read in a
   * `request` event, gives the request's time in the server. Default false.
   */
  readonly timeRequests?: boolean | undefined;
}

/**
 * Serves one accepted connection, whichever wire it speaks (seed or framed, and framed inside
 * TLS 1.3 with `tls`), handshake included, with Nagle's algorithm off on a TCP socket: the
 * app gives only the answers, and hears of handshakes, requests and refusals through
 * `onEvent`. Resumes the stream (a socket accepted with `pauseOnConnect` arrives paused).
 * Each connection gets a bounded share of the thread (`maxBytesPerTurn`), of memory for unsent answers (`maxUnsentBytes`) and of idle
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
 *
 * @example
 * // TLS on the same port: the first byte tells a TLS client from the others.
 * const secureContext = tls.createSecureContext({ key, cert, minVersion: 'TLSv1.3' });
 * serveConnection(socket, { answer, tls: { secureContext } });
 */
export function serveConnection(stream: Duplex, options: ServeConnectionOptions): ServerConnection {
  // Answers are small and their latency is the point: Nagle's algorithm would hold an answer
  // back until the previous one is acknowledged, 40 ms with a delayed ACK (measured: a TIME
  // and a CLOCK sent together got their second answer 40 ms late).
  (stream as Duplex & { setNoDelay?: (noDelay: boolean) => unknown }).setNoDelay?.(true);
  const transportOptions: StreamTransportOptions = {
    lingerMs: options.lingerMs,
    maxUnsentBytes: options.maxUnsentBytes,
    maxBytesPerTurn: options.maxBytesPerTurn,
    stampArrival: options.timeRequests,
  };
  const transport = new StreamTransport(stream, transportOptions);
  const tlsOptions = options.tls;
  let connectionOptions: ServerConnectionOptions = options;
  if (tlsOptions !== undefined) {
    if (typeof tlsOptions !== 'object' || tlsOptions === null || !tlsOptions.secureContext) {
      throw new TypeError('options.tls must be an object with a secureContext');
    }
    connectionOptions = {
      ...options,
      onTlsHello: (firstBytes) =>
        startTls(stream, transport, firstBytes, tlsOptions, transportOptions, connection),
    };
  }
  const connection: ServerConnection = new ServerConnection(transport, connectionOptions);
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

// The client's first bytes are a TLS ClientHello: the plain transport lets go of the stream,
// the bytes it read go back onto it (a TLS socket made over a net.Socket reads what the
// socket buffered first), and the connection goes on over a transport on the TLS socket.
function startTls(
  stream: Duplex,
  plain: StreamTransport,
  firstBytes: Uint8Array,
  options: ServeTlsOptions,
  transportOptions: StreamTransportOptions,
  connection: ServerConnection,
): StreamTransport {
  const rest = plain.detach();
  stream.unshift(rest.length === 0 ? firstBytes : Buffer.concat([firstBytes, ...rest]));
  const socket = new tls.TLSSocket(stream, {
    isServer: true,
    secureContext: options.secureContext,
  });
  if (options.onKeylog !== undefined) socket.on('keylog', options.onKeylog);
  let secure = false;
  // Also the listener that keeps a reset after the handshake from becoming an uncaught
  // 'error' (which would take the whole thread down); 'close' follows and ends the session.
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (secure) return;
    connection.fail(new TlsError(`TLS handshake failed: ${tlsReason(err)}`, { cause: err }));
  });
  socket.once('secure', () => {
    secure = true;
    const protocol = socket.getProtocol();
    if (protocol !== 'TLSv1.3') {
      connection.fail(new TlsError(`TLS handshake failed: ${protocol} is not TLS 1.3`));
    }
  });
  // Whoever accepted the stream (a pool counting its sessions, say) waits for its 'close'.
  socket.once('close', () => stream.destroy());
  const transport = new StreamTransport(socket, transportOptions);
  transport.attach(connection);
  return transport;
}
