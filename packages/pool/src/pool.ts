import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { NoTaskModuleError, PoolClosedError, TaskFailedError } from './errors.ts';
import { CLOSING, type PoolWorkerData, type TaskMessage } from './messages.ts';
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
}

interface Held {
  socket: Socket;
  context: unknown;
  resolve: (summary: SessionSummary) => void;
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
  readonly #inFlight = new Set<Promise<unknown>>();
  #connections = 0;
  #closing: Promise<void> | undefined;

  constructor(options: PoolOptions = {}) {
    this.options = Object.freeze(resolvePoolOptions(options));
    if (this.options.threads === 0) return;
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
      const held: Held = { socket, context, resolve };
      if (this.#placement?.mustHold) this.#backlog.push(held);
      else this.#dispatch(held);
    });
  }

  async #serveInline(socket: Socket, context: TContext): Promise<SessionSummary> {
    this.#inlineSession ??= loadDefaultExport<SessionHandler>(this.options.session, 'session');
    this.#connections += 1;
    const served = this.#inlineSession.then(
      (handler) =>
        serveSession(handler, socket, context, this.#inline, threadId, this.options.data),
      (err: unknown) => {
        socket.destroy();
        return emptySummary('handler-error', err instanceof Error ? err.message : String(err));
      },
    );
    this.#inFlight.add(served);
    try {
      return await served;
    } finally {
      this.#inFlight.delete(served);
      this.#connections -= 1;
      this.#inlineCompleted += 1;
    }
  }

  #dispatch({ socket, context, resolve }: Held): void {
    const transferList = [socket];
    this.#connections += 1;
    const run = this.#submit<SessionSummary>({ kind: 'session', socket, context }, transferList);
    // Once moved, the socket left here is a destroyed shell, yet piscina keeps the transfer
    // list until the task ends, that is for the whole connection: let go of the shell now.
    // A socket still waiting in a queue to move is kept.
    let unsent: Socket | undefined = socket;
    if (socket.destroyed) {
      transferList.length = 0;
      unsent = undefined;
    }
    const tracked = run.then(
      (summary) => summary,
      (err: unknown) => {
        if (unsent !== undefined && !unsent.destroyed) unsent.destroy();
        const detail = err instanceof Error ? err.message : String(err);
        const closedBy = this.#closing !== undefined ? 'forced' : 'worker-exit';
        return emptySummary(closedBy, detail);
      },
    );
    this.#inFlight.add(tracked);
    void tracked.then((summary) => {
      this.#inFlight.delete(tracked);
      this.#connections -= 1;
      resolve(summary);
      this.#release();
    });
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
      if (next !== undefined) this.#dispatch(next);
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
      run = this.#submit<TResult>({ kind: 'task', task });
    }
    const tracked = run.catch((err: unknown) => {
      throw new TaskFailedError('the task failed', { cause: err });
    });
    this.#inFlight.add(tracked);
    try {
      return await tracked;
    } finally {
      this.#inFlight.delete(tracked);
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
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
    clearTimeout(timer);
    this.#inline.forceAll();
    await this.#piscina?.destroy();
    // Let the last summaries (forced ones included) reach their callers.
    await Promise.allSettled([...this.#inFlight]);
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
