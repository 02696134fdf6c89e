import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { fileErrorReason } from '@rtt/cli-support/files';
import type { SessionControl, SessionHandler } from '@rtt/pool';
import {
  CipherId,
  createAnswerer,
  type ServerConnection,
  type ServerSessionEvent,
  UnsupportedCipherError,
} from '@rtt/protocol';
import { openKeylog, serveConnection } from '@rtt/protocol/node';
import { type ConnectionContext, displayAddress, type SessionConfig } from './context.ts';
import { createLog, type Log } from './logger.ts';
import { readProxyHeader } from './proxy-protocol.ts';
import { logReclaimed, startMemoryReclaim } from './reclaim.ts';
import { openTemperatureSource } from './temperature.ts';
import { reasonLabel, ThreadMetrics } from './thread-metrics.ts';

interface ThreadState {
  log: Log;
  answer: ReturnType<typeof createAnswerer>;
  config: SessionConfig;
  tls: { secureContext: SecureContext; onKeylog?: (line: Buffer) => void } | undefined;
  /** With `--metrics-port`: this thread's counters, and the pool's report function for them. */
  metrics:
    | { counters: ThreadMetrics; collect: (thread: { sessions: number }) => unknown }
    | undefined;
}

let thread: ThreadState | undefined;

// Each thread opens its logger, temperature source, TLS context and key log once, from the
// pool's data: a SecureContext cannot be sent to a thread, its PEM text can.
function threadState(data: unknown): ThreadState {
  if (thread === undefined) {
    const config = data as SessionConfig;
    const temperature = openTemperatureSource(config.temperatureSource);
    const answer = createAnswerer(() => temperature.read());
    // Each answer once, now: a thread's first local-time formatting loads the time zone and
    // compiles the answer code, which the first client's first request would otherwise pay
    // for in its round-trip time.
    for (const command of ['TIME', 'DATE', 'TEMP'] as const) answer(command);
    const log = createLog(config.log);
    startMemoryReclaim({ onReclaimed: (heap) => logReclaimed(log, heap) });
    let tls: ThreadState['tls'];
    if (config.tls !== undefined) {
      const secureContext = createSecureContext({
        cert: config.tls.cert,
        key: config.tls.key,
        minVersion: 'TLSv1.3',
      });
      // The main thread opened the key log once already, so this fails only for a folder
      // removed since; then this thread serves on without one, and says so.
      let onKeylog: ((line: Buffer) => void) | undefined;
      try {
        onKeylog = config.tls.keylog === undefined ? undefined : openKeylog(config.tls.keylog);
      } catch (err) {
        log.warning(
          `TLS key log ${config.tls.keylog} not written: ${fileErrorReason(err, 'writing')}`,
        );
      }
      tls = onKeylog === undefined ? { secureContext } : { secureContext, onKeylog };
    }
    let metrics: ThreadState['metrics'];
    if (config.metrics) {
      const counters = new ThreadMetrics();
      metrics = { counters, collect: (state) => counters.collect(state.sessions) };
    }
    thread = { config, log, answer, tls, metrics };
  }
  return thread;
}

// The framed handshake's refusals that the log calls a bad hello, as it always has.
const HELLO_REFUSALS = new Set([
  'RTT_ERR_HELLO_REJECTED',
  'RTT_ERR_UNSUPPORTED_VERSION',
  'RTT_ERR_UNSUPPORTED_CIPHER',
  'RTT_ERR_UNSUPPORTED_GROUP',
  'RTT_ERR_BAD_PUBLIC_KEY',
  'RTT_ERR_TOO_MANY_REKEYS',
]);

/** What {@link sessionEvents} counts into, with `--metrics-port`. */
export interface SessionMetrics {
  counters: ThreadMetrics;
  /** When the bytes being handled arrived (`performance.now()`; NaN: not noted). */
  receivedAt: () => number;
}

/**
 * Turns what a session reports into the server's log lines and the pool's counters (and, with
 * `metrics`, the thread's metrics). `who` names the client; it is built only for a line that
 * is written (a thread holds thousands of idle sessions, and a name kept per session is memory
 * for nothing).
 *
 * @example
 * serveConnection(socket, { answer, onEvent: sessionEvents(log, control, () => '127.0.0.1 port 43570') });
 */
export function sessionEvents(
  log: Log,
  control: SessionControl,
  who: () => string,
  metrics?: SessionMetrics,
): (event: ServerSessionEvent) => void {
  // Whether the keys were agreed: a refusal before is a failed handshake, after a session error.
  let ready = false;
  return (event) => {
    switch (event.type) {
      case 'request':
        control.countRequest();
        metrics?.counters.request(event, performance.now() - metrics.receivedAt());
        return;
      case 'refused': {
        const { error } = event;
        control.closeReason(reasonLabel(error.code));
        metrics?.counters.refused(error.code, !ready);
        const why =
          // A NONE hello over plain TCP is refused unless --allow-plaintext: the line names it.
          error instanceof UnsupportedCipherError && error.cipher === CipherId.NONE
            ? 'bad hello (cipher NONE, in clear over plain TCP: refused without --allow-plaintext)'
            : event.wire === 'framed' && HELLO_REFUSALS.has(error.code)
              ? `bad hello (${error.message})`
              : event.wire === 'seed' && error.code === 'RTT_ERR_BAD_PUBLIC_KEY'
                ? `seed ${error.message}, not in the group`
                : error.message;
        log.event('warning', 'bad clients closed', () => `Closing ${who()}: ${why}`);
        return;
      }
      case 'rekey':
        log.event(
          'debug',
          'weak keys re-keyed',
          () => `Weak shared secret with ${who()}; waiting for a new hello`,
        );
        return;
      case 'clear-text':
        // The seed wire has no way to re-key: the session is served, and the log says so.
        log.event(
          'warning',
          'sessions in clear',
          () => `Session with ${who()} has shared key 256 = 0 mod 256: it travels in clear`,
        );
        return;
      case 'ready':
        ready = true;
        if (event.tls === true) {
          log.event('debug', 'TLS sessions', () => `TLS 1.3 session with ${who()}`);
        }
        return;
    }
  };
}

/**
 * The session each pool thread runs for a connection: `@rtt/protocol` serves it (either wire,
 * handshake included); this app gives the answers and writes the log.
 *
 * @example
 * // pool-session.ts
 * export default defineSession(serveClient);
 */
export const serveClient: SessionHandler<ConnectionContext> = (
  socket: Socket,
  context,
  control,
) => {
  const state = threadState(control.data);
  const { log, config, metrics } = state;
  // Reads the context when a line is written: behind a proxy it names the client once the
  // header has been read.
  const who = () => `${context.address} port ${context.port}`;
  // The pool listens for errors already; this listener is only for the debug line.
  if (log.enabled('debug')) {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      log.event(
        'debug',
        'socket errors',
        () => `Socket error with ${who()}: ${err.code ?? err.message}`,
      );
    });
  }
  if (metrics !== undefined) control.setThreadReport(metrics.collect);
  if (!config.proxyProtocol) {
    serve(socket, state, who, control, undefined);
    return;
  }
  // Behind a proxy the first bytes are its header, read here (a socket that has read
  // anything can no longer move between threads): the client it names replaces the proxy's
  // address in every line, and in the summary the main thread logs the close with.
  let closing = false;
  control.onShutdown(() => {
    closing = true;
    socket.destroy();
  });
  void readProxyHeader(socket, {
    timeoutMs: config.handshakeTimeout,
    maxBytes: PROXY_HEADER_MAX_BYTES,
  }).then((read) => {
    if (!read.ok) {
      // A server closing cuts those still sending their header: not their failure.
      if (!closing) {
        control.closeReason('proxy-header', read.reason);
        metrics?.counters.proxyFailure(read.failure);
        log.event('warning', 'bad clients closed', () => `Closing ${who()}: ${read.reason}`);
      }
      socket.destroy();
      return;
    }
    const source = read.header.source;
    if (source !== undefined) {
      context.address = displayAddress(source.address);
      context.port = source.port;
    }
    // The summary's data says the connection was opened in the log, under which name: the
    // main thread writes the closed line only then.
    control.setSummaryData(context);
    logOpened(log, context);
    serve(socket, state, who, control, read.rest);
  });
};

/**
 * The largest PROXY v2 header taken. The format allows 64 KiB of TLVs; what proxies send
 * (HAProxy's unique id, TLS details, AWS and Azure endpoint ids) is a few hundred bytes, and
 * every connection still reading its header holds what it has sent so far.
 */
const PROXY_HEADER_MAX_BYTES = 4096;

/**
 * The seed's line for a new client. The main thread writes it at accept, but behind a proxy
 * only the session knows the client, once the proxy's header is read.
 *
 * @example
 * logOpened(log, { address: '10.0.2.5', port: 50514 });
 */
export function logOpened(log: Log, context: ConnectionContext): void {
  log.event(
    'info',
    'connections opened',
    () => `Connection open from client with ip address ${context.address} on port ${context.port}`,
  );
}

function serve(
  socket: Socket,
  state: ThreadState,
  who: () => string,
  control: SessionControl,
  firstBytes: Uint8Array | undefined,
): void {
  const { log, answer, config, tls, metrics } = state;
  let timed: SessionMetrics | undefined;
  if (metrics !== undefined) {
    timed = { counters: metrics.counters, receivedAt: () => connection.receivedAt };
  }
  const connection: ServerConnection = serveConnection(socket, {
    answer,
    onEvent: sessionEvents(log, control, who, timed),
    timeRequests: metrics !== undefined,
    handshakeTimeoutMs: config.handshakeTimeout,
    idleTimeoutMs: config.idleTimeout,
    maxUnsentBytes: config.maxUnsentBytes,
    allowPlaintext: config.allowPlaintext,
    ...(firstBytes === undefined || firstBytes.length === 0 ? {} : { firstBytes }),
    ...(tls === undefined ? {} : { tls }),
  });
  // Not `control.signal`: an AbortSignal and its listener cost about 0.5 KiB per held
  // connection; the connection's own shutdown() does the same (answers what it read first).
  control.onShutdown(() => connection.shutdown());
}
