import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CloseReason, SessionControl, SessionHandler, SessionSummary } from './session.ts';

/**
 * Serves one socket with a session handler and resolves with its summary once the socket
 * closes. Used by the pool threads and, with `threads: 0`, on the calling thread.
 */
export function serveSession(
  handler: SessionHandler,
  socket: Socket,
  context: unknown,
  closing: AbortSignal,
  threadId: number,
  data: unknown,
  /** Aborted when the close deadline passes: the socket is destroyed. */
  forcing?: AbortSignal,
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
  // Each session gets a signal of its own, linked to the pool's while the socket lives: the
  // handler's listeners then go with the session instead of piling up on a signal that lives
  // as long as the thread (which kept every closed session reachable).
  const session = new AbortController();
  const onClosing = () => session.abort();
  if (closing.aborted) session.abort();
  else closing.addEventListener('abort', onClosing, { once: true });
  const control: SessionControl = {
    signal: session.signal,
    threadId,
    data,
    countRequest(count = 1) {
      requests += count;
    },
    closeReason: setReason,
  };
  return new Promise((resolve) => {
    socket.once('end', () => setReason(closing.aborted ? 'shutdown' : 'peer'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      setReason('error', err.code ?? err.message),
    );
    const force = () => {
      setReason('forced');
      socket.destroy();
    };
    forcing?.addEventListener('abort', force, { once: true });
    socket.once('close', () => {
      forcing?.removeEventListener('abort', force);
      closing.removeEventListener('abort', onClosing);
      const summary: SessionSummary = {
        requests,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        durationMs: performance.now() - started,
        closedBy: reason ?? (closing.aborted ? 'shutdown' : 'session'),
        threadId,
      };
      if (error !== undefined) summary.error = error;
      resolve(summary);
    });
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
 *
 * @example
 * const handler = await loadDefaultExport<SessionHandler>('file:///srv/session.js', 'session');
 */
export async function loadDefaultExport<T>(location: string | undefined, what: string): Promise<T> {
  if (location === undefined) throw new Error(`the pool was created without a ${what} module`);
  const module = (await import(location)) as { default?: unknown };
  if (typeof module.default !== 'function') {
    throw new TypeError(`${what} module ${location} must have a function as default export`);
  }
  return module.default as T;
}
