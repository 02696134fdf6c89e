import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { devNull } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { NoTaskModuleError, PoolClosedError, TaskFailedError } from './errors.ts';
import {
  CLOSING,
  type PoolWorkerData,
  SESSION_MESSAGE,
  TASK_MESSAGE,
  type TaskMessage,
} from './messages.ts';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.ts';
import { Placement } from './placement.ts';
import { assertSocketTransfer } from './runtime.ts';
import { loadDefaultExport, SessionRegistry, serveSession } from './serve.ts';
import type { SessionHandler, SessionSummary, TaskHandler } from './session.ts';

/** A live view of the pool, for logs and benchmarks. */
export interface PoolStats {
  /** Threads running or starting. */
  threads: number;
  /** Connections being served in threads. */
  connections: number;
  /** Connections accepted but waiting for a thread to start (only while the pool grows). */
  waiting: number;
  /** Sessions and tasks finished so far. */
  completed: number;
  /**
   * Connections destroyed because they could not be moved to a thread: the process had no
   * file descriptor left for the move (`closedBy: 'no-descriptor'` or `'transfer-failed'`).
   */
  dropped: number;
}

interface Held {
  socket: Socket;
  context: unknown;
  resolve: (summary: SessionSummary) => void;
}

/** The parts of Node's socket internals the pool looks at to see a move that went nowhere. */
type SocketInternals = Socket & { _handle?: { fd?: number; close?: () => void } | null };

/**
 * Moving a socket to a thread needs one more file descriptor for a moment. Without one, Node
 * (26.10, measured with `ulimit -n`) drops the move silently: no error, no message in the
 * thread, and the socket's handle left open in this thread with nobody to close it (the
 * client sits in CLOSE-WAIT for ever and the task never ends). Opening and closing the null
 * device first tells, for two system calls, whether a descriptor is free; only this thread
 * opens descriptors (it accepts), so the answer holds until the move.
 */
function noDescriptorLeft(): string | undefined {
  try {
    closeSync(openSync(devNull, 'r'));
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return code;
    return undefined;
  }
}

// The worker entry sits beside this file with the same extension: worker.ts when run from
// source, worker.js / worker.cjs once built.
function workerEntry(): string {
  return new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
}

const emptySummary = (closedBy: string, error?: string): SessionSummary => ({
  requests: 0,
  bytesIn: 0,
  bytesOut: 0,
  durationMs: 0,
  closedBy,
  threadId: 0,
  ...(error === undefined ? {} : { error }),
});

/**
 * A piscina-backed pool that owns connections: one task per connection, served in a worker
 * thread from accept to close. See {@link createPool}.
 */
export class ConnectionPool<TContext = unknown, TTask = unknown, TResult = unknown> {
  readonly options: Readonly<ResolvedPoolOptions>;
  readonly #piscina: Piscina | undefined;
  readonly #placement: Placement | undefined;
  readonly #channel: BroadcastChannel | undefined;
  /** With `threads: 0`: the sessions running here, to tell them to finish, then force them. */
  readonly #inline = new SessionRegistry();
  #inlineSession: Promise<SessionHandler> | undefined;
  #inlineTask: Promise<TaskHandler> | undefined;
  #inlineCompleted = 0;
  readonly #backlog: Held[] = [];
  /** Sessions and tasks not yet settled; `close()` waits for none to be left. */
  #pending = 0;
  #whenIdle: (() => void)[] = [];
  #connections = 0;
  #dropped = 0;
  #closing: Promise<void> | undefined;

  constructor(options: PoolOptions = {}) {
    this.options = Object.freeze(resolvePoolOptions(options));
    if (this.options.threads === 0) {
      // Loaded now, while descriptors are free (see worker.ts); a failure shows at adopt().
      if (this.options.session !== undefined) {
        this.#inlineSession = loadDefaultExport<SessionHandler>(this.options.session, 'session');
        this.#inlineSession.catch(() => {});
      }
      return;
    }
    assertSocketTransfer();
    const channelName = `rtt-pool:${randomUUID()}`;
    this.#channel = new BroadcastChannel(channelName);
    this.#channel.unref();
    const { threads, activeThreads, connectionsPerThread, idleTimeout } = this.options;
    this.#placement = new Placement({
      activeThreads,
      connectionsPerThread,
      threads,
      totalThreads: () => this.#piscina?.threads.length ?? 0,
      // Called from inside piscina's dispatch loop: release on the next microtask.
      onDequeued: () => queueMicrotask(() => this.#release()),
    });
    const workerData: PoolWorkerData = {
      session: this.options.session,
      task: this.options.task,
      channel: channelName,
      data: this.options.data,
    };
    this.#piscina = new Piscina({
      filename: workerEntry(),
      workerData,
      // Threads for the cores start at once (cheap: they idle on their event loop); the rest
      // only when every running thread is full.
      minThreads: activeThreads,
      maxThreads: threads,
      concurrentTasksPerWorker: connectionsPerThread,
      idleTimeout,
      // Session threads do socket I/O on their event loop: Atomics.wait would block it.
      atomics: 'disabled',
      ...(this.options.resourceLimits === undefined
        ? {}
        : { resourceLimits: this.options.resourceLimits }),
      loadBalancer: (_task, workers) => this.#placement?.choose(workers) ?? null,
    });
    // A dead thread's tasks are rejected one by one; this only catches what has no task.
    this.#piscina.on('error', () => {});
  }

  /**
   * Moves a freshly accepted, paused socket (`net.createServer({ pauseOnConnect: true })`)
   * into a worker thread, where the session handler serves it until it closes. Resolves then,
   * with a summary; never rejects for a session's own failure (see `closedBy`). The pool owns
   * the socket from this call on.
   *
   * @example
   * const server = net.createServer({ pauseOnConnect: true }, (socket) => {
   *   const peer = `${socket.remoteAddress}:${socket.remotePort}`;
   *   pool.adopt(socket, { peer }).then((summary) => console.log(peer, summary.closedBy));
   * });
   */
  adopt(socket: Socket, context: TContext): Promise<SessionSummary> {
    if (this.#closing !== undefined) {
      socket.destroy();
      return Promise.reject(new PoolClosedError('the pool is closing; no new connections'));
    }
    if (this.#piscina === undefined) return this.#serveInline(socket, context);
    return new Promise<SessionSummary>((resolve) => {
      if (this.#placement?.mustHold) this.#backlog.push({ socket, context, resolve });
      else this.#dispatch(socket, context, resolve);
    });
  }

  async #serveInline(socket: Socket, context: TContext): Promise<SessionSummary> {
    this.#inlineSession ??= loadDefaultExport<SessionHandler>(this.options.session, 'session');
    this.#connections += 1;
    this.#pending += 1;
    try {
      return await this.#inlineSession.then(
        (handler) =>
          serveSession(handler, socket, context, this.#inline, threadId, this.options.data),
        (err: unknown) => {
          // Not kept: a later connection tries again (descriptors may have come free).
          this.#inlineSession = undefined;
          socket.destroy();
          return emptySummary('handler-error', err instanceof Error ? err.message : String(err));
        },
      );
    } finally {
      this.#connections -= 1;
      this.#inlineCompleted += 1;
      this.#settled();
    }
  }

  // Per connection this keeps one pair of callbacks and piscina's task: the main thread holds
  // every open connection's bookkeeping for as long as it lasts.
  #dispatch(socket: Socket, context: unknown, resolve: (summary: SessionSummary) => void): void {
    const noDescriptor = noDescriptorLeft();
    if (noDescriptor !== undefined) {
      socket.destroy();
      this.#dropped += 1;
      resolve(emptySummary('no-descriptor', noDescriptor));
      return;
    }
    const handle = (socket as SocketInternals)._handle;
    const transferList = [socket];
    this.#connections += 1;
    this.#pending += 1;
    const run = this.#submit<SessionSummary>(
      { kind: SESSION_MESSAGE, socket, context },
      transferList,
    );
    let done = false;
    const finish = (summary: SessionSummary) => {
      if (done) return;
      done = true;
      this.#connections -= 1;
      resolve(summary);
      this.#settled();
      this.#release();
    };
    // Once moved, the socket left here is a destroyed shell, yet piscina keeps the transfer
    // list until the task ends, that is for the whole connection: let go of the shell now.
    // A socket still waiting in a queue to move is kept.
    let unsent: Socket | undefined = socket;
    if (socket.destroyed) {
      transferList.length = 0;
      unsent = undefined;
      // A move that went nowhere leaves the handle open here (see noDescriptorLeft): close
      // it, and end this connection now; piscina's task for it never starts and is dropped
      // with the threads.
      if (typeof handle?.fd === 'number' && handle.fd >= 0) {
        handle.close?.();
        this.#dropped += 1;
        finish(emptySummary('transfer-failed', 'the socket could not be moved to a thread'));
      }
    }
    run.then(finish, (err: unknown) => {
      if (unsent !== undefined && !unsent.destroyed) unsent.destroy();
      const detail = err instanceof Error ? err.message : String(err);
      finish(emptySummary(this.#closing !== undefined ? 'forced' : 'worker-exit', detail));
    });
  }

  #settled(): void {
    this.#pending -= 1;
    if (this.#pending === 0) for (const wake of this.#whenIdle.splice(0)) wake();
  }

  /** Resolves once no session or task is left unsettled. */
  #idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenIdle.push(resolve));
  }

  /** Hands a task to piscina, telling placement that this is a new task, not a queued one. */
  #submit<T>(message: TaskMessage, transferList: Socket[] = []): Promise<T> {
    if (this.#piscina === undefined || this.#placement === undefined) {
      return Promise.reject(new PoolClosedError('the pool has no threads'));
    }
    this.#placement.submitting = true;
    try {
      // piscina reports every failure, a socket postMessage refuses included, as a rejection.
      return this.#piscina.run(message, { transferList: transferList as never[] });
    } finally {
      this.#placement.submitting = false;
    }
  }

  #release(): void {
    while (this.#backlog.length > 0 && !this.#placement?.mustHold) {
      const next = this.#backlog.shift();
      if (next !== undefined) this.#dispatch(next.socket, next.context, next.resolve);
    }
  }

  /**
   * Runs a compute task from the pool's `task` module in a thread.
   *
   * @example
   * const pool = createPool<never, number, number>({ task: new URL('./square.js', import.meta.url) });
   * await pool.run(7); // 49
   */
  async run(task: TTask): Promise<TResult> {
    if (this.#closing !== undefined) throw new PoolClosedError('the pool is closing; no new tasks');
    if (this.options.task === undefined) {
      throw new NoTaskModuleError('the pool was created without a task module');
    }
    let run: Promise<TResult>;
    if (this.#piscina === undefined) {
      this.#inlineTask ??= loadDefaultExport<TaskHandler>(this.options.task, 'task');
      const handler = this.#inlineTask;
      run = handler
        .then((fn) => fn(task) as TResult)
        .finally(() => {
          this.#inlineCompleted += 1;
        });
    } else {
      run = this.#submit<TResult>({ kind: TASK_MESSAGE, task });
    }
    this.#pending += 1;
    try {
      return await run;
    } catch (err) {
      throw new TaskFailedError('the task failed', { cause: err });
    } finally {
      this.#settled();
      this.#release();
    }
  }

  /** Threads, connections and completed tasks right now. */
  get stats(): PoolStats {
    return {
      threads: this.#piscina?.threads.length ?? 0,
      connections: this.#connections,
      waiting: this.#backlog.length + (this.#placement?.queued ?? 0),
      completed: this.#piscina?.completed ?? this.#inlineCompleted,
      dropped: this.#dropped,
    };
  }

  /**
   * Stops taking connections, tells every session to finish (their `control.signal` aborts),
   * waits for them up to `timeout` ms (default `options.closeTimeout`), then stops the threads,
   * which closes whatever is still open. Safe to call more than once.
   *
   * @example
   * process.once('SIGINT', () => pool.close({ timeout: 2000 }));
   */
  close({ timeout = this.options.closeTimeout }: { timeout?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutdown(timeout);
    return this.#closing;
  }

  async #shutdown(timeout: number): Promise<void> {
    for (const held of this.#backlog.splice(0)) {
      held.socket.destroy();
      held.resolve(emptySummary('shutdown'));
    }
    this.#channel?.postMessage(CLOSING);
    this.#inline.closeAll();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    await Promise.race([this.#idle(), deadline]);
    clearTimeout(timer);
    this.#inline.forceAll();
    await this.#piscina?.destroy();
    // Let the last summaries (forced ones included) reach their callers.
    await this.#idle();
    this.#channel?.close();
  }
}

/**
 * Creates a connection pool. `threads` defaults to 32 (the seed's default), but only one
 * thread per core starts at first; more start only when those are full. `threads: 0` serves
 * every session on the calling thread (and needs no socket transfer, so any Node >= 20).
 *
 * @example
 * import net from 'node:net';
 * import { createPool } from '@rtt/pool';
 *
 * const pool = createPool<{ peer: string }>({ session: new URL('./session.js', import.meta.url) });
 * net.createServer({ pauseOnConnect: true }, (socket) => {
 *   void pool.adopt(socket, { peer: `${socket.remoteAddress}:${socket.remotePort}` });
 * }).listen(7777);
 */
export function createPool<TContext = unknown, TTask = unknown, TResult = unknown>(
  options: PoolOptions = {},
): ConnectionPool<TContext, TTask, TResult> {
  return new ConnectionPool<TContext, TTask, TResult>(options);
}
