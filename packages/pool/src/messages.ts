import type { Socket } from 'node:net';

// Numbers, not names: a string in a message arrives as a new copy in the thread, and a
// session's message is kept for as long as its connection lasts.
export const SESSION_MESSAGE = 0;
export const TASK_MESSAGE = 1;

/** What the pool sends a thread for one task. */
export type TaskMessage =
  | { kind: typeof SESSION_MESSAGE; socket: Socket; context: unknown }
  | { kind: typeof TASK_MESSAGE; task: unknown };

/** What every thread receives as `workerData`. */
export interface PoolWorkerData {
  session: string | undefined;
  task: string | undefined;
  /** BroadcastChannel on which the pool announces that it is closing. */
  channel: string;
  data: unknown;
}

/** The single message sent on the pool's BroadcastChannel. */
export const CLOSING = 'closing';
