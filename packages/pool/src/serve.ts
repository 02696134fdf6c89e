import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BadModuleError, NoSessionModuleError, NoTaskModuleError } from './errors.ts';
import type { CloseReason, SessionControl, SessionHandler, SessionSummary } from './session.ts';

/** What a {@link SessionRegistry} can do to one live session. */
interface LiveSession {
  /** Aborts the session's signal: finish up. */
  close(): void;
  /** Destroys the socket: the deadline has passed. */
  force(): void;
}

/**
 * The sessions open in one thread (or, with `threads: 0`, on the calling thread), so that
 * closing can reach each of them. A plain set rather than listeners on one shared
 * `AbortSignal`: Node's EventTarget checks every listener already there before adding one,
 * which made accepting 10,000 connections quadratic (1.8 s of a 2.5 s profile).
 *
 * @example
 * const sessions = new SessionRegistry();
 * void serveSession(handler, socket, context, sessions, threadId, data);
 * sessions.closeAll(); // every session's control.signal aborts
 */
export class SessionRegistry {
  readonly #live = new Set<LiveSession>();
  #closing = false;

  /** Whether `closeAll()` has been called: sessions that start now are told at once. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#live.size;
  }

  add(session: LiveSession): void {
    this.#live.add(session);
    if (this.#closing) session.close();
  }

  delete(session: LiveSession): void {
    this.#live.delete(session);
  }

  /** Tells every open session, and every later one, to finish. */
  closeAll(): void {
    this.#closing = true;
    for (const session of this.#live) session.close();
  }

  /** Destroys every open session's socket. */
  forceAll(): void {
    for (const session of [...this.#live]) session.force();
  }
}

/**
 * Serves one socket with a session handler and resolves with its summary once the socket
 * closes. Used by the pool threads and, with `threads: 0`, on the calling thread.
 */
export function serveSession(
  handler: SessionHandler,
  socket: Socket,
  context: unknown,
  sessions: SessionRegistry,
  threadId: number,
  data: unknown,
): Promise<SessionSummary> {
  const started = performance.now();
  let requests = 0;
  let reason: CloseReason | undefined;
  let error: string | undefined;
  const setReason = (next: CloseReason, detail?: string) => {
    if (reason !== undefined) return;
    reason = next;
    if (detail !== undefined) error = detail;
  };
  // Each session has a signal of its own: the handler's listeners go with the session.
  const signal = new AbortController();
  const live: LiveSession = {
    close: () => signal.abort(),
    force: () => {
      setReason('forced');
      socket.destroy();
    },
  };
  const control: SessionControl = {
    signal: signal.signal,
    threadId,
    data,
    countRequest(count = 1) {
      requests += count;
    },
    closeReason: setReason,
  };
  return new Promise((resolve) => {
    socket.once('end', () => setReason(sessions.closing ? 'shutdown' : 'peer'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      setReason('error', err.code ?? err.message),
    );
    socket.once('close', () => {
      sessions.delete(live);
      const summary: SessionSummary = {
        requests,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        durationMs: performance.now() - started,
        closedBy: reason ?? (sessions.closing ? 'shutdown' : 'session'),
        threadId,
      };
      if (error !== undefined) summary.error = error;
      resolve(summary);
    });
    sessions.add(live);
    // A throw inside the handler is that connection's problem only.
    const fail = (err: unknown) => {
      setReason('handler-error', err instanceof Error ? err.message : String(err));
      socket.destroy();
    };
    try {
      const result = handler(socket, context, control);
      if (result !== undefined && typeof result.then === 'function') result.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  });
}

/**
 * Imports a handler module and returns its default export, which must be a function.
 * Rejects with {@link NoSessionModuleError} / {@link NoTaskModuleError} when the pool has no
 * such module, and with {@link BadModuleError} when it cannot be imported or exports no
 * function: a deployment problem to report by code, not a caller's bad argument.
 *
 * @example
 * const handler = await loadDefaultExport<SessionHandler>('file:///srv/session.js', 'session');
 */
export async function loadDefaultExport<T>(
  location: string | undefined,
  what: 'session' | 'task',
): Promise<T> {
  if (location === undefined) {
    const message = `the pool was created without a ${what} module`;
    throw what === 'task' ? new NoTaskModuleError(message) : new NoSessionModuleError(message);
  }
  let module: { default?: unknown };
  try {
    module = (await import(location)) as { default?: unknown };
  } catch (err) {
    throw new BadModuleError(`cannot load the ${what} module ${location}`, { cause: err });
  }
  if (typeof module.default !== 'function') {
    throw new BadModuleError(`${what} module ${location} must have a function as default export`);
  }
  return module.default as T;
}
