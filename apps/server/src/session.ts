import type { Socket } from 'node:net';
import type { SessionControl, SessionHandler } from '@rtt/pool';
import { detectWire } from '@rtt/protocol';
import type { ConnectionContext, SessionConfig } from './context.ts';
import { serveFramed } from './framed-session.ts';
import { createLog, type Log } from './logger.ts';
import { serveSeed } from './seed-session.ts';
import { openTemperatureSource, type TemperatureSource } from './temperature.ts';

/** What the wire-specific sessions need. */
export interface SessionDeps {
  log: Log;
  temperature: TemperatureSource;
  control: SessionControl;
  /** `ip:port` of the client, for log lines. */
  who: string;
  /** Stops the handshake timer. */
  handshakeDone: () => void;
  /** Set by a wire that can tell the client why it is closed; otherwise the socket is destroyed. */
  onHandshakeTimeout?: () => void;
}

/** How long a closing socket may linger half-open before it is destroyed. */
const LINGER_MS = 2_000;

/**
 * Ends a socket and destroys it if the peer does not close its side soon: a client that
 * ignores our FIN must not hold a session open.
 *
 * @example
 * closeGently(socket);
 */
export function closeGently(socket: Socket): void {
  socket.end();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(linger));
}

interface ThreadState {
  log: Log;
  temperature: TemperatureSource;
  config: SessionConfig;
}

let thread: ThreadState | undefined;

// Each thread opens its logger and temperature source once, from the pool's data.
function threadState(data: unknown): ThreadState {
  if (thread === undefined) {
    const config = data as SessionConfig;
    thread = {
      config,
      log: createLog(config.log),
      temperature: openTemperatureSource(config.temperatureSource),
    };
  }
  return thread;
}

/**
 * The session: tells our framed protocol from the seed wire by the first bytes, then hands
 * the connection to the matching server. Closes clients that send nothing in time.
 *
 * @example
 * // pool-session.ts
 * export default defineSession(serveConnection);
 */
export const serveConnection: SessionHandler<ConnectionContext> = (socket, context, control) => {
  const { log, temperature, config } = threadState(control.data);
  const who = `${context.address} port ${context.port}`;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    log.debug(`Socket error with ${who}: ${err.code ?? err.message}`);
  });
  const timer = setTimeout(() => {
    log.warning(`Closing ${who}: no key exchange within ${config.handshakeTimeout / 1000} s`);
    control.closeReason('handshake-timeout');
    // Our protocol can say why (an ERROR frame, in clear); the seed wire cannot.
    if (deps.onHandshakeTimeout) deps.onHandshakeTimeout();
    else socket.destroy();
  }, config.handshakeTimeout);
  socket.once('close', () => clearTimeout(timer));
  const deps: SessionDeps = {
    log,
    temperature,
    control,
    who,
    handshakeDone: () => clearTimeout(timer),
  };

  let spoken = false;
  socket.once('data', (first: Buffer) => {
    spoken = true;
    socket.pause();
    const wire = detectWire(first);
    if (wire === 'seed') serveSeed(socket, first, deps);
    else if (wire === 'framed') serveFramed(socket, first, deps);
    else {
      log.warning(
        `Closing ${who}: neither our protocol nor the seed wire (first byte 0x${first[0]?.toString(16).padStart(2, '0')})`,
      );
      control.closeReason('unknown-wire');
      socket.destroy();
      return;
    }
    // Backpressure: a client that sends requests without reading the answers gets no more
    // of its bytes read until the answers already queued have drained.
    socket.on('data', () => {
      if (socket.writableNeedDrain && !socket.isPaused()) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
    socket.resume();
  });
  control.signal.addEventListener('abort', () => {
    // A connection that has not spoken yet has nothing to finish.
    if (!spoken) socket.destroy();
  });
  socket.resume();
};
