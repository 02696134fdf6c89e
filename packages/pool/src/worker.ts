/**
 * The piscina worker entry: serves sessions and runs compute tasks in a thread.
 */
import {
  BroadcastChannel,
  MessageChannel,
  parentPort,
  threadId,
  workerData,
} from 'node:worker_threads';
import {
  CLOSING,
  ENDED,
  type EndedReport,
  HOLD_MESSAGE,
  LANE,
  LANE_RELEASE,
  type LaneMessage,
  type LaneReport,
  type PoolWorkerData,
  RELEASED,
  REPORT,
  SESSION_MESSAGE,
  type SessionMessage,
  type SessionResult,
  type TaskMessage,
  type ThreadReport,
} from './messages.ts';
import { emptySummary, loadDefaultExport, SessionRegistry, startSession } from './serve.ts';
import type { SessionHandler, SessionSummary, TaskHandler } from './session.ts';

const config = workerData as PoolWorkerData;
const sessions = new SessionRegistry({
  reportInterval: config.reportInterval,
  onReport: (report) => {
    const message: ThreadReport = { [REPORT]: report, threadId };
    parentPort?.postMessage(message);
  },
});

const channel = new BroadcastChannel(config.channel);
// The channel must not keep an otherwise finished thread alive.
channel.unref();
channel.onmessage = (event) => {
  if ((event as MessageEvent).data !== CLOSING) return;
  // What was counted so far goes now: a session that outlives the close deadline ends with
  // its thread, which reports nothing more.
  sessions.flushReport();
  sessions.closeAll();
};

let sessionHandler: Promise<SessionHandler> | undefined;
// The handler once loaded, so that a session is served without an async function around it:
// that function, suspended for as long as the connection lasts, cost about 300 B per held
// connection.
let loadedSession: SessionHandler | undefined;
let taskHandler: Promise<TaskHandler> | undefined;

function loadSession(): Promise<SessionHandler> {
  const loading = loadDefaultExport<SessionHandler>(config.session, 'session');
  loading.then(
    (handler) => {
      loadedSession = handler;
    },
    () => {},
  );
  return loading;
}

// The session module loads as the thread starts, not with its first connection: under a flood
// that has taken every file descriptor, importing (which opens files) would fail for every
// session of the thread.
if (config.session !== undefined) sessionHandler = loadSession();

// A session that comes as a piscina task (a thread's first, before its lane is known: see the
// lane below) keeps its task pending while its connection is young: a connection that
// closes within that time (a client that connects, asks and goes) has its summary as its task's
// result, one message back to the pool's thread rather than two (measured: each message
// between threads costs both threads a wake-up, most of what a short connection costs the
// pool). A task still pending after one to two sweeps resolves with this thread's id, and its
// session's end is reported later on `parentPort`, in batches: kept pending for the whole
// connection, piscina's task cost about 2 KiB per held connection (its records, promises and
// message on both threads). One task per thread, the anchor, stays pending while the thread
// holds any session: piscina then counts the thread busy and does not end it after
// `idleTimeout`, and a thread that dies still rejects a task, which the pool hears of.
const SWEEP_MS = 200;
type Settle = (result: SessionResult) => void;
let young = new Map<number, Settle>();
let aging = new Map<number, Settle>();
let sweeper: NodeJS.Timeout | undefined;
let anchor: Settle | undefined;
let ended: (number | SessionSummary)[] = [];

// Two generations, so that a task waits between one and two periods with no clock read.
function sweep(): void {
  const due = aging;
  aging = young;
  young = new Map();
  for (const settle of due.values()) {
    if (anchor === undefined) anchor = settle;
    else settle(threadId);
  }
  if (aging.size === 0) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function pendingTask(id: number): Settle | undefined {
  const settle = young.get(id);
  if (settle !== undefined) {
    young.delete(id);
    return settle;
  }
  const older = aging.get(id);
  if (older !== undefined) aging.delete(id);
  return older;
}

/**
 * How long the ends of sessions gather before they go to the pool's thread (ms). Each message
 * wakes that thread, which idles between accepts: measured with 8 clients cycling TLS
 * handshakes, its context switches per connection fell from 2.1 to 1.3 and its CPU time per
 * connection by a fifth with 20 ms against the next turn; a closed connection's summary (and
 * its log line) comes that much later.
 */
const END_BATCH_MS = 20;

// Tasks to settle with the next batch, each followed by its result.
let settling: (Settle | SessionResult)[] = [];

const sessionEnded = (summary: SessionSummary, id: number): void => {
  // Later, as one batch: the handler's own 'close' listeners run first (what they count goes
  // in the thread's last report), and the pool's thread is woken once for the ends of
  // END_BATCH_MS rather than once per connection.
  if (ended.length === 0 && settling.length === 0) setTimeout(report, END_BATCH_MS);
  const settle = pendingTask(id);
  // Data the handler gave may not survive the trip (a function in it): it goes in a report,
  // which can drop it, rather than as piscina's result, which would fail.
  if (settle !== undefined && summary.data === undefined) {
    settling.push(settle, summary);
    return;
  }
  ended.push(id, summary);
  if (settle !== undefined) settling.push(settle, threadId);
};

function report(): void {
  if (ended.length > 0) {
    const message: EndedReport = { [ENDED]: ended };
    const sent = ended;
    ended = [];
    try {
      parentPort?.postMessage(message);
    } catch {
      // A summary that cannot be cloned (a handler's setSummaryData with a function in it)
      // must not end the thread and every session on it: the summaries go without their data.
      for (let i = 1; i < sent.length; i += 2) {
        const summary = sent[i] as SessionSummary;
        if (summary.data !== undefined) {
          delete summary.data;
          summary.error ??= 'its summary data could not be sent between threads';
        }
      }
      parentPort?.postMessage(message);
    }
  }
  // Everything below may let the thread go, and a thread let go may be ended at once
  // (idleTimeout: 0): what it posted before is still delivered, so the summaries and what its
  // sessions counted go first.
  if (sessions.size === 0) sessions.flushReport();
  const batch = settling;
  settling = [];
  for (let i = 0; i + 1 < batch.length; i += 2) {
    (batch[i] as Settle)(batch[i + 1] as SessionResult);
  }
  if (sessions.size === 0 && anchor !== undefined) {
    const release = anchor;
    anchor = undefined;
    release(RELEASED);
  }
}

function adopted(message: SessionMessage, handler: SessionHandler): Promise<SessionResult> {
  serve(message, handler);
  // After the session has started, so that a task is young only with a live session ('close',
  // and so the session's end, comes on a later turn).
  const task = new Promise<SessionResult>((settle) => {
    young.set(message.id, settle);
  });
  sweeper ??= setInterval(sweep, SWEEP_MS).unref();
  return task;
}

export default function poolTask(message: TaskMessage): unknown {
  if (message.kind === SESSION_MESSAGE && loadedSession !== undefined) {
    return adopted(message, loadedSession);
  }
  if (message.kind === HOLD_MESSAGE) return hold(message.thread);
  return slowTask(message);
}

// The lane: most connections come to this thread on a port of its own rather than as piscina
// tasks (measured with 8 clients cycling TLS handshakes: the server's CPU per connection
// 0.92x, the median of ten paired runs; piscina's task, its promise and its answer cost both
// threads more than the move itself). Piscina must still count the thread busy while it serves
// them, or it would end the thread after `idleTimeout`: the pool keeps a hold (a task left
// pending) on the thread for as long as it has sent connections down the lane, and lets it go
// with LANE_RELEASE on the lane once they have all ended. The hold and its release travel on
// two ports, so either may come first: they are matched by count.
const lane = new MessageChannel();
const holds: ((result: SessionResult) => void)[] = [];
let releases = 0;

function hold(thread: number): Promise<SessionResult> | SessionResult {
  // Sent to this thread when piscina could not place it where the pool asked: not ours.
  if (thread !== threadId) return RELEASED;
  return new Promise<SessionResult>((settle) => {
    holds.push(settle);
    settleHolds();
  });
}

function settleHolds(): void {
  while (releases > 0 && holds.length > 0) {
    releases -= 1;
    holds.shift()?.(RELEASED);
  }
}

lane.port2.on('message', (message: LaneMessage) => {
  if (message === LANE_RELEASE) {
    releases += 1;
    settleHolds();
    return;
  }
  if (loadedSession !== undefined) serve(message, loadedSession);
  else void laneSessionLater(message);
});
// Like the channel: the lane alone must not keep a finished thread alive.
lane.port2.unref();
const laneReport: LaneReport = { [LANE]: lane.port1, threadId };
parentPort?.postMessage(laneReport, [lane.port1]);

/** Starts a connection's session, whichever way it came (a task or the lane). */
function serve(message: SessionMessage, handler: SessionHandler): void {
  startSession(
    handler,
    message.socket,
    message.context,
    sessions,
    threadId,
    config.data,
    message.id,
    sessionEnded,
  );
}

/**
 * The session handler, loaded now if it is not yet. If it cannot be, the connection is closed
 * and its summary given instead; the failure is not kept: a later connection tries again
 * (descriptors may have come free).
 */
async function handlerFor(message: SessionMessage): Promise<SessionHandler | SessionSummary> {
  sessionHandler ??= loadSession();
  try {
    return await sessionHandler;
  } catch (err) {
    sessionHandler = undefined;
    message.socket.destroy();
    return emptySummary(
      'handler-error',
      err instanceof Error ? err.message : String(err),
      threadId,
    );
  }
}

async function laneSessionLater(message: SessionMessage): Promise<void> {
  const handler = await handlerFor(message);
  if (typeof handler === 'function') serve(message, handler);
  else sessionEnded(handler, message.id);
}

async function slowTask(
  message: Exclude<TaskMessage, { kind: typeof HOLD_MESSAGE }>,
): Promise<unknown> {
  if (message.kind === SESSION_MESSAGE) {
    const handler = await handlerFor(message);
    return typeof handler === 'function' ? adopted(message, handler) : handler;
  }
  taskHandler ??= loadDefaultExport<TaskHandler>(config.task, 'task');
  return (await taskHandler)(message.task);
}
