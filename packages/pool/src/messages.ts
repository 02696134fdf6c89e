import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import type { SessionSummary } from './session.ts';

// Numbers, not names: a string in a message arrives as a new copy in the thread, and a
// session's message is kept for as long as its connection lasts.
export const SESSION_MESSAGE = 0;
export const TASK_MESSAGE = 1;
export const HOLD_MESSAGE = 2;

/** A connection for a thread to serve. `id` names it in later reports. */
export interface SessionMessage {
  kind: typeof SESSION_MESSAGE;
  id: number;
  socket: Socket;
  context: unknown;
}

/**
 * What the pool sends a thread for one piscina task: a connection, a compute task, or a hold
 * (a task that stays pending, so that piscina counts the thread busy, until the pool sends
 * {@link LANE_RELEASE} on the thread's lane). A hold names its thread: one that reaches another
 * thread ends at once.
 */
export type TaskMessage =
  | SessionMessage
  | { kind: typeof TASK_MESSAGE; task: unknown }
  | { kind: typeof HOLD_MESSAGE; thread: number };

/**
 * What the pool sends on a thread's lane (see {@link LaneReport}): a connection, or this
 * number, which lets the thread's oldest hold go.
 */
export const LANE_RELEASE = 0;
export type LaneMessage = SessionMessage | typeof LANE_RELEASE;

/** The key that tells a {@link LaneReport} from anything else a thread might post. */
export const LANE = 'rtt.pool.lane';

/**
 * Sent once by each thread as it starts, on its `parentPort`: the port on which the pool
 * then sends it connections directly, without a piscina task each.
 */
export interface LaneReport {
  [LANE]: MessagePort;
  threadId: number;
}

/** What every thread receives as `workerData`. */
export interface PoolWorkerData {
  session: string | undefined;
  task: string | undefined;
  /** BroadcastChannel on which the pool announces that it is closing. */
  channel: string;
  data: unknown;
  /** Milliseconds between the thread's reports (`PoolOptions.reportInterval`). */
  reportInterval: number;
}

/** The single message sent on the pool's BroadcastChannel. */
export const CLOSING = 'closing';

/**
 * What a session task resolves with when the thread's anchor is let go: the thread holds no
 * session any more. Any other number a session task gives is the id of the thread that took
 * the socket (never 0: the main thread's).
 */
export const RELEASED = 0;

/**
 * What a session task resolves with: the summary of a session that ended while its task was
 * still pending (a short connection), or a thread id ({@link RELEASED} for the anchor), its
 * session's end then reported in an {@link EndedReport}.
 */
export type SessionResult = number | SessionSummary;

/** The key that tells an {@link EndedReport} from anything else a thread might post. */
export const ENDED = 'rtt.pool.ended';

/**
 * Sessions a thread has seen end, sent on its `parentPort` (piscina passes such messages on as
 * its own 'message' event): connection ids, each followed by its summary.
 */
export interface EndedReport {
  [ENDED]: (number | SessionSummary)[];
}

/** The key of what a thread's sessions report (`SessionControl.setThreadReport`). */
export const REPORT = 'rtt.pool.report';

/**
 * A thread's report, sent on its `parentPort`, with the thread's id (piscina passes the
 * message on without saying which thread posted it).
 */
export interface ThreadReport {
  [REPORT]: unknown;
  threadId: number;
}
