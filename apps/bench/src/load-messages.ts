import type { LoadRunStats, LoadThreadOptions } from './load-thread.ts';

/** What a load worker thread is started with. */
export interface LoadWorkerData {
  options: LoadThreadOptions;
  /** This thread's share of the measured requests. */
  requests: number;
  /** This thread's share of the warm-up requests. */
  warmup: number;
  durationMs: number | undefined;
}

/** From the main thread: start measuring, or stop (Ctrl+C). */
export type ToLoadWorker = { type: 'go' } | { type: 'stop' };

/** From a load worker thread. */
export type FromLoadWorker =
  /** Connected and warmed up; waiting for `go`. */
  | { type: 'ready' }
  /** It could not start (e.g. connection refused); nothing was measured. */
  | { type: 'fatal'; code: string; message: string }
  | { type: 'progress'; completed: number; errors: number; latencySumMs: number }
  /** The run's figures, with the histogram encoded by `encodeHistogram`. */
  | { type: 'done'; stats: LoadRunStats; histogram: string };
