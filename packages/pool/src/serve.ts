import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BadModuleError, NoSessionModuleError, NoTaskModuleError } from './errors.ts';
import type {
  CloseReason,
  SessionControl,
  SessionHandler,
  SessionSummary,
  ThreadState,
} from './session.ts';

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
  readonly #onReport: ((report: unknown) => void) | undefined;
  readonly #reportInterval: number;
  #collect: ((thread: ThreadState) => unknown) | undefined;
  #reportTimer: NodeJS.Timeout | undefined;

  /**
   * `onReport` receives what `setThreadReport`'s function returns, every `reportInterval` ms
   * and on {@link SessionRegistry.flushReport}; without it, reports are not collected.
   */
  constructor(options: { onReport?: (report: unknown) => void; reportInterval?: number } = {}) {
    this.#onReport = options.onReport;
    this.#reportInterval = options.reportInterval ?? 1_000;
  }

  /** Sets the thread's report function (see `SessionControl.setThreadReport`). */
  setReporter(collect: (thread: ThreadState) => unknown): void {
    if (typeof collect !== 'function') throw new TypeError('collect must be a function');
    this.#collect = collect;
    if (this.#onReport === undefined || this.#reportTimer !== undefined) return;
    // Unref'd: reporting never keeps a thread (or a server's main thread) alive.
    this.#reportTimer = setInterval(() => this.flushReport(), this.#reportInterval);
    this.#reportTimer.unref();
  }

  /**
   * Collects the report now and hands it on, unless there is nothing to say. A report function
   * or a sink that throws loses that report, not the thread and its sessions.
   */
  flushReport(): void {
    if (this.#collect === undefined || this.#onReport === undefined) return;
    try {
      const report = this.#collect({ sessions: this.#live.size });
      if (report !== undefined) this.#onReport(report);
    } catch {
      // Nothing to tell: the report is the app's, and its next one may do better.
    }
  }

  /** Reports a last time and stops the timer (the pool is closing). */
  stopReporting(): void {
    this.flushReport();
    clearInterval(this.#reportTimer);
    this.#reportTimer = undefined;
    this.#collect = undefined;
  }

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
 * One session's bookkeeping, and the `control` its handler gets. A class with its methods on
 * the prototype, not a bundle of closures: a thread holds thousands of idle sessions, and
 * every closure, context and listener wrapper is paid once per connection (measured with heap
 * snapshots: the closure version cost about 1.4 KiB more per connection). The `AbortSignal`
 * is made only when a handler asks for it; `onShutdown` is the cheaper way to hear of closing.
 */
class Session implements SessionControl, LiveSession {
  readonly threadId: number;
  readonly data: unknown;
  readonly #socket: Socket;
  readonly #sessions: SessionRegistry;
  readonly #started = performance.now();
  readonly #id: number;
  readonly #done: SessionDone;
  #requests = 0;
  #reason: CloseReason | undefined;
  #error: string | undefined;
  #data: unknown;
  #closing = false;
  #controller: AbortController | undefined;
  #onShutdown: (() => void) | undefined;

  constructor(
    socket: Socket,
    sessions: SessionRegistry,
    threadId: number,
    data: unknown,
    id: number,
    done: SessionDone,
  ) {
    this.#socket = socket;
    this.#sessions = sessions;
    this.threadId = threadId;
    this.data = data;
    this.#id = id;
    this.#done = done;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#closing) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  onShutdown(callback: () => void): void {
    this.#onShutdown = callback;
    if (this.#closing) queueMicrotask(callback);
  }

  countRequest(count = 1): void {
    this.#requests += count;
  }

  setThreadReport(collect: (thread: ThreadState) => unknown): void {
    this.#sessions.setReporter(collect);
  }

  setSummaryData(data: unknown): void {
    this.#data = data;
  }

  closeReason(reason: CloseReason, detail?: string): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    if (detail !== undefined) this.#error = detail;
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#controller?.abort();
    this.#onShutdown?.();
  }

  force(): void {
    this.closeReason('forced');
    this.#socket.destroy();
  }

  fail(err: unknown): void {
    this.closeReason('handler-error', err instanceof Error ? err.message : String(err));
    this.#socket.destroy();
  }

  ended(): void {
    this.closeReason(this.#sessions.closing ? 'shutdown' : 'peer');
  }

  errored(err: NodeJS.ErrnoException): void {
    this.closeReason('error', err.code ?? err.message);
  }

  closed(): void {
    this.#sessions.delete(this);
    const socket = this.#socket;
    const summary: SessionSummary = {
      requests: this.#requests,
      bytesIn: socket.bytesRead,
      bytesOut: socket.bytesWritten,
      durationMs: performance.now() - this.#started,
      closedBy: this.#reason ?? (this.#sessions.closing ? 'shutdown' : 'session'),
      threadId: this.threadId,
    };
    if (this.#error !== undefined) summary.error = this.#error;
    if (this.#data !== undefined) summary.data = this.#data;
    this.#done(summary, this.#id);
  }
}

// The socket carries its session, so that the three listeners below are shared by every
// connection rather than three closures each. Plain listeners, not `once`: each `once` wraps
// its listener in a closure and a state object per connection, and 'end' and 'close' come
// once anyway ('error' may repeat: the first reason wins).
const kSession = Symbol('rtt.pool.session');
type ServedSocket = Socket & { [kSession]?: Session | undefined };

function onEnd(this: ServedSocket): void {
  this[kSession]?.ended();
}
function onError(this: ServedSocket, err: NodeJS.ErrnoException): void {
  this[kSession]?.errored(err);
}
function onClose(this: ServedSocket): void {
  const session = this[kSession];
  this[kSession] = undefined;
  session?.closed();
}

/**
 * Called once with a session's summary when its socket has closed, and the `id` it was started
 * with. One function for every session of a thread, rather than a promise and its resolver
 * per connection, kept for as long as the connection lasts.
 */
export type SessionDone = (summary: SessionSummary, id: number) => void;

/**
 * Serves one socket with a session handler and calls `done(summary, id)` once the socket
 * closes. The pool threads use this; see {@link serveSession} for a promise.
 *
 * @example
 * startSession(handler, socket, context, sessions, threadId, data, 7, (summary, id) => {
 *   console.log(id, summary.closedBy); // 7 'peer'
 * });
 */
export function startSession(
  handler: SessionHandler,
  socket: Socket,
  context: unknown,
  sessions: SessionRegistry,
  threadId: number,
  data: unknown,
  id: number,
  done: SessionDone,
): void {
  const session = new Session(socket, sessions, threadId, data, id, done);
  (socket as ServedSocket)[kSession] = session;
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  sessions.add(session);
  // A throw inside the handler is that connection's problem only.
  try {
    const result = handler(socket, context, session);
    if (result !== undefined && typeof result.then === 'function') {
      result.then(undefined, (err: unknown) => session.fail(err));
    }
  } catch (err) {
    session.fail(err);
  }
}

/**
 * Serves one socket with a session handler and resolves with its summary once the socket
 * closes. Used with `threads: 0`, on the calling thread.
 *
 * @example
 * const summary = await serveSession(handler, socket, context, sessions, 0, undefined);
 */
export function serveSession(
  handler: SessionHandler,
  socket: Socket,
  context: unknown,
  sessions: SessionRegistry,
  threadId: number,
  data: unknown,
): Promise<SessionSummary> {
  return new Promise((resolve) => {
    startSession(handler, socket, context, sessions, threadId, data, 0, resolve);
  });
}

/**
 * The summary of a connection that ended before its session began (refused, not moved, its
 * session module not loaded): nothing read or written. `threadId` 0 is the pool's thread.
 *
 * @example
 * emptySummary('no-descriptor', 'EMFILE'); // { requests: 0, ..., closedBy: 'no-descriptor', threadId: 0, error: 'EMFILE' }
 */
export function emptySummary(closedBy: string, error?: string, threadId = 0): SessionSummary {
  return {
    requests: 0,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 0,
    closedBy,
    threadId,
    ...(error === undefined ? {} : { error }),
  };
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
