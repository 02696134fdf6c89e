/**
 * The piscina worker entry: serves sessions and runs compute tasks in a thread.
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { CLOSING, type PoolWorkerData, SESSION_MESSAGE, type TaskMessage } from './messages.ts';
import { loadDefaultExport, SessionRegistry, serveSession } from './serve.ts';
import type { SessionHandler, TaskHandler } from './session.ts';

const config = workerData as PoolWorkerData;
const sessions = new SessionRegistry();

const channel = new BroadcastChannel(config.channel);
// The channel must not keep an otherwise finished thread alive.
channel.unref();
channel.onmessage = (event) => {
  if ((event as MessageEvent).data === CLOSING) sessions.closeAll();
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

export default function poolTask(message: TaskMessage): Promise<unknown> {
  if (message.kind === SESSION_MESSAGE && loadedSession !== undefined) {
    return serveSession(
      loadedSession,
      message.socket,
      message.context,
      sessions,
      threadId,
      config.data,
    );
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
    return serveSession(handler, message.socket, message.context, sessions, threadId, config.data);
  }
  taskHandler ??= loadDefaultExport<TaskHandler>(config.task, 'task');
  return (await taskHandler)(message.task);
}
