/**
 * The piscina worker entry: serves sessions and runs compute tasks in a thread.
 */
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import {
  CLOSING,
  ENDED,
  type EndedReport,
  type PoolWorkerData,
  RELEASED,
  REPORT,
  SESSION_MESSAGE,
  type TaskMessage,
  type ThreadReport,
} from './messages.ts';
import { loadDefaultExport, SessionRegistry, startSession } from './serve.ts';
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

// A session's piscina task ends as soon as the thread has the socket (its result is this
// thread's id); the session's end is reported later on `parentPort`, in batches. Kept pending
// for the whole connection, piscina's task cost about 2 KiB per held connection (its records,
// promises and message on both threads). One task per thread, the anchor, stays pending while
// the thread holds any session: piscina then counts the thread busy and does not end it after
// `idleTimeout`, and a thread that dies still rejects a task, which the pool hears of.
let anchor: ((result: number) => void) | undefined;
let ended: (number | SessionSummary)[] = [];

const sessionEnded = (summary: SessionSummary, id: number): void => {
  if (ended.length === 0) setImmediate(report);
  ended.push(id, summary);
};

function report(): void {
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
  // Only after the summaries: a thread let go may be ended at once (idleTimeout: 0), and what
  // it posted before is still delivered.
  if (sessions.size === 0 && anchor !== undefined) {
    // The thread may end once let go: what its sessions counted goes first.
    sessions.flushReport();
    const release = anchor;
    anchor = undefined;
    release(RELEASED);
  }
}

function adopted(message: TaskMessage & { kind: typeof SESSION_MESSAGE }, handler: SessionHandler) {
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
  if (anchor !== undefined) return threadId;
  return new Promise<number>((resolve) => {
    anchor = resolve;
  });
}

export default function poolTask(message: TaskMessage): unknown {
  if (message.kind === SESSION_MESSAGE && loadedSession !== undefined) {
    return adopted(message, loadedSession);
  }
  return slowTask(message);
}

async function slowTask(message: TaskMessage): Promise<unknown> {
  if (message.kind === SESSION_MESSAGE) {
    sessionHandler ??= loadSession();
    let handler: SessionHandler;
    try {
      handler = await sessionHandler;
    } catch (err) {
      // Not kept: a later connection tries again (descriptors may have come free).
      sessionHandler = undefined;
      message.socket.destroy();
      throw err;
    }
    return adopted(message, handler);
  }
  taskHandler ??= loadDefaultExport<TaskHandler>(config.task, 'task');
  return (await taskHandler)(message.task);
}
