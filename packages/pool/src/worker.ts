/**
 * The piscina worker entry: serves sessions and runs compute tasks in a thread.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { CLOSING, type PoolWorkerData, type TaskMessage } from './messages.ts';
import type {
  CloseReason,
  SessionControl,
  SessionHandler,
  SessionSummary,
  TaskHandler,
} from './session.ts';

const config = workerData as PoolWorkerData;
const closing = new AbortController();

const channel = new BroadcastChannel(config.channel);
// The channel must not keep an otherwise finished thread alive.
channel.unref();
channel.onmessage = (event) => {
  if ((event as MessageEvent).data === CLOSING) closing.abort();
};

let sessionHandler: Promise<SessionHandler> | undefined;
let taskHandler: Promise<TaskHandler> | undefined;

async function loadDefault<T>(location: string | undefined, what: string): Promise<T> {
  if (location === undefined) throw new Error(`the pool was created without a ${what} module`);
  const module = (await import(location)) as { default?: unknown };
  if (typeof module.default !== 'function') {
    throw new TypeError(`${what} module ${location} must have a function as default export`);
  }
  return module.default as T;
}

function serve(socket: Socket, context: unknown, handler: SessionHandler): Promise<SessionSummary> {
  const started = performance.now();
  let requests = 0;
  let reason: CloseReason | undefined;
  let error: string | undefined;
  const setReason = (next: CloseReason, detail?: string) => {
    if (reason !== undefined) return;
    reason = next;
    if (detail !== undefined) error = detail;
  };
  const control: SessionControl = {
    signal: closing.signal,
    threadId,
    countRequest(count = 1) {
      requests += count;
    },
    closeReason: setReason,
  };
  return new Promise((resolve) => {
    socket.once('end', () => setReason(closing.signal.aborted ? 'shutdown' : 'peer'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      setReason('error', err.code ?? err.message),
    );
    socket.once('close', () => {
      const summary: SessionSummary = {
        requests,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        durationMs: performance.now() - started,
        closedBy: reason ?? (closing.signal.aborted ? 'shutdown' : 'session'),
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

export default async function poolTask(message: TaskMessage): Promise<unknown> {
  if (message.kind === 'session') {
    sessionHandler ??= loadDefault<SessionHandler>(config.session, 'session');
    let handler: SessionHandler;
    try {
      handler = await sessionHandler;
    } catch (err) {
      message.socket.destroy();
      throw err;
    }
    return serve(message.socket, message.context, handler);
  }
  taskHandler ??= loadDefault<TaskHandler>(config.task, 'task');
  return (await taskHandler)(message.task);
}
