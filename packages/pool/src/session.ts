import type { Socket } from 'node:net';

/** How a session ended, from the pool's point of view. */
export type CloseReason =
  /** The peer ended or reset the connection. */
  | 'peer'
  /** The session handler closed it (its `closeReason()` may say more). */
  | 'session'
  /** A socket error ended it. */
  | 'error'
  /** The session handler threw; only this connection was closed. */
  | 'handler-error'
  /** The pool was closing and the session finished within the deadline. */
  | 'shutdown'
  /** The pool was closing and the deadline passed: the thread was stopped under it. */
  | 'forced'
  /** The thread serving it died (an uncaught exception in a callback); it was replaced. */
  | 'worker-exit'
  /**
   * It never reached a thread: the process had no file descriptor left to move it with
   * (`error` is `EMFILE` or `ENFILE`). The socket was destroyed at once.
   */
  | 'no-descriptor'
  /** It never reached a thread: Node dropped the move (no descriptor left); it was closed. */
  | 'transfer-failed'
  /** The session handler gave its own reason. */
  | (string & {});

/** What `adopt()` resolves with once the connection has closed. */
export interface SessionSummary {
  /** Requests the handler counted with `control.countRequest()`. */
  requests: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  closedBy: CloseReason;
  /** The worker thread that served it (0 when it never reached one). */
  threadId: number;
  /** Present when an error ended the session. */
  error?: string;
  /** What the handler gave `control.setSummaryData()`, if anything (cloned across threads). */
  data?: unknown;
}

/** What a thread's report function is told of its thread. */
export interface ThreadState {
  /** Sessions open in the thread now (0 in the report made as it lets go of its last). */
  sessions: number;
}

/** What a session handler gets besides its socket and context. */
export interface SessionControl {
  /**
   * Aborted when the pool starts closing: finish up and close the socket. Made on first use;
   * a server holding many idle connections can use {@link SessionControl.onShutdown} instead,
   * which costs one callback (an `AbortSignal` with one listener is about 0.5 KiB).
   */
  readonly signal: AbortSignal;
  /** The worker thread's id. */
  readonly threadId: number;
  /** The pool's `options.data`, the same in every thread (set up per-thread state from it). */
  readonly data: unknown;
  /**
   * Calls `callback` once when the pool starts closing (at once, in a microtask, if it has
   * already begun): the same moment `signal` aborts. One callback per session; a second call
   * replaces the first.
   *
   * @example
   * control.onShutdown(() => socket.end('bye\n'));
   */
  onShutdown(callback: () => void): void;
  /** Counts requests for the summary. */
  countRequest(count?: number): void;
  /** Sets the summary's `closedBy` (the first reason given wins). */
  closeReason(reason: CloseReason, error?: string): void;
  /**
   * Gives the summary a `data` field: what the handler learnt of the connection that the
   * pool's thread wants once it ends (say, the client's address from a proxy's header). It
   * crosses threads by structured clone. A later call replaces it.
   *
   * @example
   * control.setSummaryData({ client: '203.0.113.7:51234' });
   */
  setSummaryData(data: unknown): void;
  /**
   * Gives the thread its report: counters kept in the thread reach the pool's thread in
   * batches rather than a message per event. `collect()` is called every `reportInterval` ms
   * while the thread holds sessions, and once more as it lets go of its last one; what it
   * returns reaches `PoolOptions.onReport` (nothing is sent when it returns `undefined`, so an
   * idle thread sends nothing). `thread.sessions` is how many sessions the thread holds. One
   * function per thread: a later call replaces it.
   *
   * @example
   * let requests = 0;
   * control.setThreadReport(() => {
   *   if (requests === 0) return undefined;
   *   const report = { requests };
   *   requests = 0;
   *   return report;
   * });
   */
  setThreadReport(collect: (thread: ThreadState) => unknown): void;
}

/**
 * Serves one connection until it closes. The socket arrives paused: call `socket.resume()`
 * once the listeners are attached (attaching a `'data'` listener alone does not start a
 * socket accepted with `pauseOnConnect`).
 */
export type SessionHandler<TContext = unknown> = (
  socket: Socket,
  context: TContext,
  control: SessionControl,
) => void | Promise<void>;

/** A compute task run by `pool.run()`. */
export type TaskHandler<TTask = unknown, TResult = unknown> = (
  task: TTask,
) => TResult | Promise<TResult>;

/**
 * Marks a module's default export as a session handler, with its context type.
 *
 * @example
 * // echo-session.ts
 * export default defineSession<{ greeting: string }>((socket, context) => {
 *   socket.write(context.greeting);
 *   socket.on('data', (chunk) => socket.write(chunk));
 *   socket.on('end', () => socket.end());
 *   socket.resume();
 * });
 */
export function defineSession<TContext = unknown>(
  handler: SessionHandler<TContext>,
): SessionHandler<TContext> {
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  return handler;
}

/**
 * Marks a module's default export as a compute task for `pool.run()`.
 *
 * @example
 * // square-task.ts
 * export default defineTask((n: number) => n * n);
 */
export function defineTask<TTask, TResult>(
  handler: TaskHandler<TTask, TResult>,
): TaskHandler<TTask, TResult> {
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  return handler;
}
