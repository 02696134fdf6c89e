import type { Socket } from 'node:net';

/** What the pool sends a thread for one task. */
export type TaskMessage =
  | { kind: 'session'; socket: Socket; context: unknown }
  | { kind: 'task'; task: unknown };

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
