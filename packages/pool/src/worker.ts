/**
 * The piscina worker entry: serves sessions and runs compute tasks in a thread.
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { CLOSING, type PoolWorkerData, type TaskMessage } from './messages.ts';
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
let taskHandler: Promise<TaskHandler> | undefined;

// The session module loads as the thread starts, not with its first connection: under a flood
// that has taken every file descriptor, importing (which opens files) would fail for every
// session of the thread.
if (config.session !== undefined) {
  sessionHandler = loadDefaultExport<SessionHandler>(config.session, 'session');
  sessionHandler.catch(() => {});
}

export default async function poolTask(message: TaskMessage): Promise<unknown> {
  if (message.kind === 'session') {
    sessionHandler ??= loadDefaultExport<SessionHandler>(config.session, 'session');
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
