/// <reference types="node" />
import type { Duplex } from 'node:stream';
import { assertInteger } from '@rtt/cipher/assert';
import { ErrorCode, MAGIC } from '../constants.ts';
import { concatFrame, encodeError } from '../encoder.ts';
import { TLS_HANDSHAKE_RECORD } from '../server-connection.ts';

/** Options for {@link refuseConnection}. */
export interface RefuseConnectionOptions {
  /**
   * How long to wait for the client's first bytes, which tell its wire, in milliseconds;
   * default 1000. A client still silent then is closed without a word.
   */
  readonly waitMs?: number | undefined;
  /**
   * After the ERROR frame, how long the client has to close its side before the socket is
   * destroyed, in milliseconds; default 2000 (as `StreamTransport`'s `lingerMs`).
   */
  readonly lingerMs?: number | undefined;
  /**
   * Whether the server serves TLS on this port: a TLS client is then told it is full with a
   * TLS alert. Without it a TLS client is closed at once, as it would be were there room;
   * being told "full" would send it back to try again for nothing. Default false.
   */
  readonly tls?: boolean | undefined;
}

/** Default of {@link RefuseConnectionOptions.waitMs}. */
export const DEFAULT_REFUSE_WAIT_MS = 1_000;

const DEFAULT_LINGER_MS = 2_000;
/**
 * A TLS client is told with a fatal `user_canceled` alert in clear (RFC 8446, 6: a handshake
 * cancelled "for some reason unrelated to a protocol failure"; TLS has no alert for a busy
 * server), rather than a handshake that would cost a full server the CPU it has no room for.
 * Node's client reports it as `ERR_SSL_TLSV1_ALERT_USER_CANCELLED`. Record: alert (21),
 * legacy version 3.3, length 2; alert: fatal (2), user_canceled (90).
 */
const TLS_USER_CANCELED = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x5a);
const BUSY_MESSAGE = 'server busy: too many connections, try again later';
const noop = () => {};

/**
 * Turns away a connection the server has no room for (over its `--max-connections`), as
 * cheaply as can be and telling the client why where its wire allows: it reads the first
 * bytes (at most `waitMs`); a framed client (first byte `R`) gets an ERROR frame SERVER_BUSY
 * in clear (no keys were agreed, as with HANDSHAKE_TIMEOUT), a TLS client (first byte 0x16)
 * of a server that serves TLS (`tls`) a fatal TLS alert `user_canceled`, each then a FIN, and the socket is destroyed when the
 * client closes or after `lingerMs`. Anything else (the seed wire, which has no way to say
 * it, garbage, silence) is destroyed at once. `connect` in this package
 * turns the frame into a `ServerBusyError` (`RTT_ERR_SERVER_BUSY`).
 *
 * It never throws for what the socket does (an error on it is swallowed) and always ends with
 * the socket destroyed, so the caller need not watch it. The stream may arrive paused (a
 * server with `pauseOnConnect`).
 * @throws {TypeError | RangeError} for bad options (the stream is destroyed first)
 * @example
 * import net from 'node:net';
 * import { refuseConnection, serveConnection } from '@rtt/protocol/node';
 *
 * let open = 0;
 * net.createServer({ pauseOnConnect: true }, (socket) => {
 *   if (open >= 10_000) return refuseConnection(socket);
 *   open += 1;
 *   socket.once('close', () => { open -= 1; });
 *   socket.on('error', () => {});
 *   serveConnection(socket, { answer });
 * }).listen(7777);
 */
export function refuseConnection(stream: Duplex, options: RefuseConnectionOptions = {}): void {
  let waitMs: number;
  let lingerMs: number;
  try {
    waitMs = assertInteger(
      options.waitMs ?? DEFAULT_REFUSE_WAIT_MS,
      'options.waitMs',
      0,
      2 ** 31 - 1,
    );
    lingerMs = assertInteger(
      options.lingerMs ?? DEFAULT_LINGER_MS,
      'options.lingerMs',
      0,
      2 ** 31 - 1,
    );
  } catch (err) {
    stream.destroy();
    throw err;
  }
  // A reset from a client being turned away is nobody's business, and must not crash anyone.
  stream.on('error', noop);
  if (stream.destroyed) return;
  const destroy = () => stream.destroy();
  let timer = setTimeout(destroy, waitMs);
  timer.unref();
  const onData = (chunk: Uint8Array) => {
    if (chunk.length === 0) return;
    stream.off('data', onData);
    stream.off('end', destroy);
    clearTimeout(timer);
    const refusal =
      chunk[0] === MAGIC[0]
        ? concatFrame(encodeError(ErrorCode.SERVER_BUSY, BUSY_MESSAGE))
        : chunk[0] === TLS_HANDSHAKE_RECORD && options.tls === true
          ? TLS_USER_CANCELED
          : undefined;
    if (refusal === undefined || !stream.writable) {
      stream.destroy();
      return;
    }
    // Read on, dropping the bytes, so that the client's own close is seen; the refusal goes
    // out first.
    stream.on('data', noop);
    stream.once('end', () => {
      if (stream.writableFinished) destroy();
      else stream.once('finish', destroy);
    });
    stream.end(refusal);
    timer = setTimeout(destroy, lingerMs);
    timer.unref();
  };
  stream.on('data', onData);
  // A client that leaves before it says anything.
  stream.once('end', destroy);
  stream.once('close', () => clearTimeout(timer));
  stream.resume();
}
