import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { devNull } from 'node:os';
import { extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, type MessagePort, threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { NoTaskModuleError, PoolClosedError, TaskFailedError } from './errors.ts';
import {
  CLOSING,
  ENDED,
  type EndedReport,
  HOLD_MESSAGE,
  LANE,
  LANE_RELEASE,
  type LaneReport,
  type PoolWorkerData,
  RELEASED,
  REPORT,
  SESSION_MESSAGE,
  type SessionMessage,
  type SessionResult,
  TASK_MESSAGE,
  type TaskMessage,
  type ThreadReport,
} from './messages.ts';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.ts';
import { Placement, type PlacementWorker } from './placement.ts';
import { assertSocketTransfer } from './runtime.ts';
import { emptySummary, loadDefaultExport, SessionRegistry, serveSession } from './serve.ts';
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
   * file descriptor left for the move (`closedBy: 'no-descriptor'` or `'transfer-failed'`),
   * or their context could not be cloned (`'transfer-failed'`).
   */
  dropped: number;
}

interface Held {
  socket: Socket;
  context: unknown;
  resolve: (summary: SessionSummary) => void;
}

/**
 * All the main thread keeps of a connection in a thread: how to resolve `adopt()`, and which
 * thread took it (0 while its task is pending: a young connection, or the one per thread whose
 * task stays pending as the thread's anchor; piscina counts and watches those).
 */
class Open {
  thread = 0;
  readonly resolve: (summary: SessionSummary) => void;

  constructor(resolve: (summary: SessionSummary) => void) {
    this.resolve = resolve;
  }
}

/**
 * A thread the pool knows: how many connections it holds (for placement), how it ended, and
 * its lane (see worker.ts): the port connections go down directly, while the pool keeps a
 * hold on the thread (`held`), let go `linger` after its last connection ended.
 */
interface ThreadState {
  readonly id: number;
  sessions: number;
  error: string | undefined;
  lane: MessagePort | undefined;
  held: boolean;
  linger: NodeJS.Timeout | undefined;
}

/**
 * How long a thread's hold outlives its last connection (ms, at most `idleTimeout`): a client
 * that connects again and again would otherwise cost a hold and its release each time.
 */
const LINGER_MS = 200;

/** The parts of Node's socket internals the pool looks at to see a move that went nowhere. */
type SocketHandle = { fd?: number; close?: () => void } | null | undefined;
type SocketInternals = Socket & { _handle?: SocketHandle };

/** A socket piscina holds in its queue: its handle, and the transfer list piscina keeps. */
interface Move {
  socket: Socket;
  handle: SocketHandle;
  transferList: Socket[];
}

/**
 * Moving a socket to a thread needs one more file descriptor for a moment. Without one, Node
 * (26.10, measured with `ulimit -n`) drops the move silently: no error, no message in the
 * thread, and the socket's handle left open in this thread with nobody to close it (the
 * client sits in CLOSE-WAIT for ever and the task never ends). Opening and closing the null
 * device first tells, for two system calls, whether a descriptor is free; only this thread
 * opens descriptors (it accepts), so the answer holds until the move. The pool asks only
 * while descriptors have run short lately ({@link SCARCE_MS}): a move that went nowhere is
 * also seen after the fact, and those two system calls were 5% of what a connection cost the
 * accepting thread.
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

/**
 * How long after a move failed for want of a descriptor every move is checked first (ms). A
 * failed move leaves piscina a task that never ends (its message went nowhere): one per
 * shortage, not one per connection.
 */
const SCARCE_MS = 1_000;

// The worker entry sits beside this file with the same extension: worker.ts when run from
// source, worker.js / worker.cjs once built.
function workerEntry(): string {
  return new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
}

/**
 * A piscina-backed pool that owns connections: a connection moves to a worker thread, down the
 * thread's lane (its own port) or as a piscina task while the thread's lane is not known yet,
 * and the thread serves it from accept to close and reports its end. See {@link createPool}.
 */
export class ConnectionPool<TContext = unknown, TTask = unknown, TResult = unknown> {
  readonly options: Readonly<ResolvedPoolOptions>;
  readonly #piscina: Piscina | undefined;
  readonly #placement: Placement | undefined;
  readonly #channel: BroadcastChannel | undefined;
  /** With `threads: 0`: the sessions running here, to tell them to finish, then force them. */
  readonly #inline: SessionRegistry;
  #inlineSession: Promise<SessionHandler> | undefined;
  #inlineTask: Promise<TaskHandler> | undefined;
  readonly #backlog: Held[] = [];
  /** Sessions and tasks not yet settled; `close()` waits for none to be left. */
  #pending = 0;
  #whenIdle: (() => void)[] = [];
  /** Connections in threads, by the id their session reports its end with. */
  readonly #open = new Map<number, Open>();
  #nextId = 1;
  /** Threads known to hold connections, by thread id; a thread's entry goes when it exits. */
  readonly #threads = new Map<number, ThreadState>();
  #completed = 0;
  #connections = 0;
  #dropped = 0;
  /** Sockets piscina holds in its queue, to move once a thread takes their task. */
  readonly #queuedMoves = new Map<number, Move>();
  /** Piscina's view of each ready thread, for placing connections sent down a lane. */
  #handles: PlacementWorker[] = [];
  /** While submitting a hold: the thread it is for (piscina's balancer then picks only it). */
  #holding = 0;
  #holdPlaced = false;
  /** Until when each move is checked for a free descriptor first (see noDescriptorLeft). */
  #checkDescriptorsUntil = 0;
  #closing: Promise<void> | undefined;

  constructor(options: PoolOptions = {}) {
    this.options = Object.freeze(resolvePoolOptions(options));
    const { onReport, reportInterval } = this.options;
    this.#inline = new SessionRegistry({
      reportInterval,
      ...(onReport === undefined ? {} : { onReport: (report: unknown) => onReport(report, 0) }),
    });
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
      // Piscina counts the tasks under way (the anchor among them); the rest of a thread's
      // connections are counted here.
      // A hold is a task with no connection of its own: not counted, or a thread lingering
      // with none would look busy.
      usage: (worker) => {
        const state = this.#threads.get(worker.id ?? -1);
        if (state === undefined) return worker.currentUsage;
        return worker.currentUsage + state.sessions - (state.held ? 1 : 0);
      },
      // Called from inside piscina's dispatch loop: release on the next microtask.
      onDequeued: () => queueMicrotask(() => this.#dequeued()),
    });
    const workerData: PoolWorkerData = {
      session: this.options.session,
      task: this.options.task,
      channel: channelName,
      data: this.options.data,
      reportInterval,
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
      // piscina's wait and run time histograms are not read here: two clock reads and two
      // histogram records per task saved on the accepting thread.
      recordTiming: false,
      ...(this.options.resourceLimits === undefined
        ? {}
        : { resourceLimits: this.options.resourceLimits }),
      loadBalancer: (_task, workers) =>
        this.#holding !== 0
          ? this.#holdThread(workers)
          : (this.#placement?.choose(workers) ?? null),
    });
    this.#piscina.on('workerCreate', (worker: PlacementWorker) => {
      this.#handles.push(worker);
    });
    this.#piscina.on('workerDestroy', () => {
      this.#handles = this.#handles.filter((worker) => !worker.destroyed && !worker.terminating);
    });
    // A dead thread's tasks are rejected one by one and its other connections ended on its
    // 'exit'; this only catches what has no task.
    this.#piscina.on('error', () => {});
    // Each new thread gets an 'exit' listener of its own, with its id read while it runs (a
    // worker's threadId reads -1 once it has exited).
    const watched = new WeakSet<object>();
    const { onThreadExit } = this.options;
    if (onThreadExit !== undefined) {
      this.#piscina.on('workerCreate', () => {
        for (const worker of this.#piscina?.threads ?? []) {
          if (watched.has(worker)) continue;
          watched.add(worker);
          const id = worker.threadId;
          worker.once('exit', () => {
            try {
              onThreadExit(id);
            } catch {
              // The app's callback; a throw there must not take the pool with it.
            }
          });
        }
      });
    }
    this.#piscina.on('message', (message: unknown) => {
      if (typeof message !== 'object' || message === null) return;
      if (ENDED in message) this.#ended((message as EndedReport)[ENDED]);
      else if (REPORT in message) this.#report(message as ThreadReport);
      else if (LANE in message) this.#laneOpened(message as LaneReport);
    });
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
      this.#completed += 1;
      this.#settled();
    }
  }

  // While the connection is young this keeps piscina's task and a pair of callbacks: a short
  // one ends with its task. Once the thread has let the task go, only an `Open` in `#open` is
  // left (see worker.ts, and for the one anchor per thread).
  #dispatch(socket: Socket, context: unknown, resolve: (summary: SessionSummary) => void): void {
    if (performance.now() < this.#checkDescriptorsUntil) {
      const noDescriptor = noDescriptorLeft();
      if (noDescriptor !== undefined) {
        this.#checkDescriptorsUntil = performance.now() + SCARCE_MS;
        socket.destroy();
        this.#dropped += 1;
        resolve(emptySummary('no-descriptor', noDescriptor));
        return;
      }
    }
    const handle = (socket as SocketInternals)._handle;
    const transferList = [socket];
    const id = this.#nextId++;
    const lane = this.#laneThread();
    if (lane !== undefined) {
      const message: SessionMessage = { kind: SESSION_MESSAGE, id, socket, context };
      this.#sendOnLane(lane, message, handle, transferList, resolve);
      return;
    }
    this.#open.set(id, new Open(resolve));
    this.#connections += 1;
    this.#pending += 1;
    const run = this.#submit<SessionResult>(
      { kind: SESSION_MESSAGE, id, socket, context },
      transferList,
    );
    // A socket piscina queued (a thread is starting) moves later, when a thread takes the
    // task: it is looked at again then (see #moved).
    if (!this.#moved(id, socket, handle, transferList)) {
      this.#queuedMoves.set(id, { socket, handle, transferList });
    }
    run.then(
      (result) => {
        if (typeof result !== 'number') this.#finish(id, result);
        else if (result !== RELEASED) this.#adopted(id, result);
      },
      (err: unknown) => {
        this.#queuedMoves.delete(id);
        // A message that cannot be cloned (a context with a function in it) never left: the
        // socket did not move, as on a lane (see #sendOnLane), not a thread that died.
        const unsent = !socket.destroyed && (err as Error | undefined)?.name === 'DataCloneError';
        if (!socket.destroyed) socket.destroy();
        const open = this.#open.get(id);
        // A connection a thread has taken ends with its thread's 'exit', not here.
        if (open === undefined || open.thread !== 0) return;
        const detail = err instanceof Error ? err.message : String(err);
        if (unsent) this.#transferFailed(id, detail);
        else this.#finish(id, emptySummary(this.#lostReason(), detail));
      },
    );
  }

  /**
   * The thread to send the next connection to down its lane, held for it, or `undefined` to
   * go through piscina: no thread has a lane yet, placement asks for a new thread, or
   * piscina's queue is not empty (a thread is starting).
   */
  #laneThread(): ThreadState | undefined {
    if (this.#handles.length === 0 || this.#placement === undefined) return undefined;
    if (this.#placement.mustHold) return undefined;
    const thread = this.#placement.choose(this.#handles)?.id;
    if (thread === undefined) return undefined;
    const state = this.#threads.get(thread);
    if (state?.lane === undefined) return undefined;
    if (!state.held && !this.#hold(thread, state)) return undefined;
    if (state.linger !== undefined) {
      clearTimeout(state.linger);
      state.linger = undefined;
    }
    return state;
  }

  /**
   * Submits a hold for `thread`: a piscina task that stays pending there until the lane
   * releases it, so that piscina counts the thread busy while it serves what came down the
   * lane. False if piscina could not give it to that thread now.
   */
  #hold(thread: number, state: ThreadState): boolean {
    // With tasks in its queue piscina queues a new one without asking the balancer (and may
    // start a thread for it): a hold must go to its thread now or not at all.
    if (this.#piscina === undefined || this.#piscina.queueSize > 0) return false;
    this.#holding = thread;
    this.#holdPlaced = false;
    let run: Promise<unknown>;
    try {
      run = this.#piscina.run({ kind: HOLD_MESSAGE, thread } satisfies TaskMessage);
    } finally {
      this.#holding = 0;
    }
    // A thread that dies rejects its hold; its 'exit' ends its connections.
    run.catch(() => {});
    state.held = this.#holdPlaced;
    return state.held;
  }

  /** Piscina's balancer while a hold is submitted: the thread it is for, or nothing. */
  #holdThread<W extends PlacementWorker>(workers: readonly W[]): W | null {
    for (const worker of workers) {
      if (worker.id === this.#holding && !worker.terminating && !worker.destroyed) {
        this.#holdPlaced = true;
        return worker;
      }
    }
    return null;
  }

  /** Sends a connection down a held thread's lane; the thread reports its end later. */
  #sendOnLane(
    state: ThreadState,
    message: SessionMessage,
    handle: SocketHandle,
    transferList: Socket[],
    resolve: (summary: SessionSummary) => void,
  ): void {
    const { id, socket } = message;
    const open = new Open(resolve);
    open.thread = state.id;
    this.#open.set(id, open);
    state.sessions += 1;
    this.#connections += 1;
    this.#pending += 1;
    let failure = 'the socket was not moved';
    try {
      state.lane?.postMessage(message, transferList as never[]);
      // Moved, or failed to for want of a descriptor (then ended already): see #moved.
      if (this.#moved(id, socket, handle, transferList)) return;
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    socket.destroy();
    this.#transferFailed(id, failure);
  }

  /** Ends connection `id`, which never reached a thread, as dropped (not completed). */
  #transferFailed(id: number, detail: string): void {
    this.#dropped += 1;
    this.#finish(id, emptySummary('transfer-failed', detail), false);
  }

  /** A thread has started and sent its lane. */
  #laneOpened(report: LaneReport): void {
    const port = report[LANE];
    const state = this.#thread(report.threadId);
    if (state === undefined) port.close();
    else state.lane = port;
  }

  /** Lets go of a thread's hold once it has held no connection for LINGER_MS. */
  #linger(state: ThreadState): void {
    clearTimeout(state.linger);
    const delay = Math.min(LINGER_MS, this.options.idleTimeout);
    state.linger = setTimeout(() => {
      state.linger = undefined;
      if (state.sessions !== 0 || !state.held) return;
      state.held = false;
      state.lane?.postMessage(LANE_RELEASE);
    }, delay);
    state.linger.unref();
  }

  /**
   * Whether connection `id`'s socket has left this thread (it is a destroyed shell then). Once
   * moved, piscina still keeps the transfer list until the task ends: the shell is let go now.
   * A move that went nowhere leaves the handle open here (see noDescriptorLeft): it is closed,
   * and the connection ended now; piscina's task for it never starts and is dropped with the
   * threads.
   */
  #moved(id: number, socket: Socket, handle: SocketHandle, transferList: Socket[]): boolean {
    if (!socket.destroyed) return false;
    transferList.length = 0;
    if (typeof handle?.fd === 'number' && handle.fd >= 0) {
      handle.close?.();
      this.#checkDescriptorsUntil = performance.now() + SCARCE_MS;
      this.#transferFailed(id, 'the socket could not be moved to a thread');
    }
    return true;
  }

  /** A task left piscina's queue for a thread: its socket has moved, or failed to. */
  #dequeued(): void {
    for (const [id, { socket, handle, transferList }] of this.#queuedMoves) {
      if (this.#moved(id, socket, handle, transferList)) this.#queuedMoves.delete(id);
    }
    this.#release();
  }

  #lostReason(): string {
    return this.#closing !== undefined ? 'forced' : 'worker-exit';
  }

  /** Thread `thread` has taken connection `id` (its end may have been reported already). */
  #adopted(id: number, thread: number): void {
    const open = this.#open.get(id);
    if (open === undefined || open.thread !== 0) return;
    const state = this.#thread(thread);
    if (state === undefined) {
      this.#finish(id, emptySummary(this.#lostReason(), 'the thread serving it exited'));
      return;
    }
    open.thread = thread;
    state.sessions += 1;
  }

  /**
   * The bookkeeping of a thread that holds connections, made on its first one. `undefined`
   * when the thread is gone already: its connections are over.
   */
  #thread(thread: number): ThreadState | undefined {
    let state = this.#threads.get(thread);
    if (state !== undefined) return state;
    const worker = this.#piscina?.threads.find((candidate) => candidate.threadId === thread);
    if (worker === undefined) return undefined;
    const created: ThreadState = {
      id: thread,
      sessions: 0,
      error: undefined,
      lane: undefined,
      held: false,
      linger: undefined,
    };
    state = created;
    this.#threads.set(thread, created);
    // Node delivers what the thread posted before it ended (its last summaries) before 'exit'.
    worker.on('error', (err: Error) => {
      created.error ??= err.message;
    });
    worker.once('exit', (code: number) => this.#threadExited(thread, created, code));
    return created;
  }

  #threadExited(thread: number, state: ThreadState, code: number): void {
    this.#threads.delete(thread);
    clearTimeout(state.linger);
    state.lane?.close();
    if (state.sessions === 0) return;
    const summary = emptySummary(
      this.#lostReason(),
      state.error ?? `worker exited with code: ${code}`,
    );
    for (const [id, open] of this.#open) {
      if (open.thread === thread) this.#finish(id, { ...summary });
    }
  }

  #report(message: ThreadReport): void {
    try {
      this.options.onReport?.(message[REPORT], message.threadId);
    } catch {
      // The sink is the app's; a throw there loses one report, not the process.
    }
  }

  /** Summaries a thread has sent: ids, each followed by its summary. */
  #ended(report: (number | SessionSummary)[]): void {
    for (let i = 0; i + 1 < report.length; i += 2) {
      this.#finish(report[i] as number, report[i + 1] as SessionSummary);
    }
  }

  /** Ends connection `id` with `summary`, unless it has ended already. */
  #finish(id: number, summary: SessionSummary, completed = true): void {
    const open = this.#open.get(id);
    if (open === undefined) return;
    this.#open.delete(id);
    if (open.thread !== 0) {
      const state = this.#threads.get(open.thread);
      if (state !== undefined) {
        state.sessions -= 1;
        if (state.sessions === 0 && state.held) this.#linger(state);
      }
    }
    this.#connections -= 1;
    if (completed) this.#completed += 1;
    open.resolve(summary);
    this.#settled();
    this.#release();
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
      run = handler.then((fn) => fn(task) as TResult);
    } else {
      run = this.#submit<TResult>({ kind: TASK_MESSAGE, task });
    }
    this.#pending += 1;
    try {
      return await run;
    } catch (err) {
      throw new TaskFailedError('the task failed', { cause: err });
    } finally {
      this.#completed += 1;
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
      completed: this.#completed,
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
    this.#inline.stopReporting();
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
