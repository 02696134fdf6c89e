/**
 * What a load connection reports to the thread that drives it. The thread owns the request
 * budget, so connections that are fast take more of it and none sits idle while another
 * still has work queued (redis-benchmark's clients share one counter the same way).
 */
export interface LoadSink {
  /** Takes one request from the budget; false when there is none left (or the run stops). */
  take(): boolean;
  /** One request answered after `rttMs`; `ok` is false for an error status. */
  answered(rttMs: number, ok: boolean): void;
  /** The connection died: its `inFlight` requests will never be answered. */
  lost(connection: LoadConnection, inFlight: number, error: Error): void;
}

/** One connection under load, whichever wire it speaks. */
export interface LoadConnection {
  /** Requests sent and not yet answered. */
  readonly inFlight: number;
  /** False once the socket is gone. */
  readonly alive: boolean;
  /** Sends as many requests as the budget and its pipeline allow; more follow each answer. */
  run(): void;
  /** Closes the connection; whatever is in flight is not reported as lost. */
  close(): void;
}
