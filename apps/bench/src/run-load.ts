import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BenchOptions } from './cli.ts';
import { LoadStartError } from './errors.ts';
import { type Histogram, mergeHistograms } from './latency.ts';
import type { FromLoadWorker, LoadWorkerData, ToLoadWorker } from './load-messages.ts';
import type { LoadRunStats } from './load-thread.ts';

// The load threads' module sits beside this one, with its extension: load-worker.ts when run
// from source, load-worker.js once built (tsup puts every entry and chunk in dist/).
const LOAD_WORKER = new URL(
  `./load-worker${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/** Running totals over every thread, for the progress line. */
export interface LoadProgress {
  completed: number;
  errors: number;
  latencySumMs: number;
  /** Milliseconds since measuring started. */
  elapsedMs: number;
}

/** What a load run measured, all threads merged. */
export interface LoadResult {
  completed: number;
  errors: number;
  seconds: number;
  histogram: Histogram;
  failures: Record<string, number>;
  /** True when the run was stopped (Ctrl+C) before its end. */
  interrupted: boolean;
}

/**
 * Splits `total` into `parts` shares as even as possible, the larger ones first.
 *
 * @example
 * splitEvenly(50, 3); // [17, 17, 16]
 */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Splits `total` in proportion to `weights` (whole numbers that add up to `total`).
 *
 * @example
 * splitByWeight(100, [17, 17, 16]); // [34, 34, 32]
 */
export function splitByWeight(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor((total * w) / sum));
  let rest = total - shares.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % shares.length, rest--) shares[i] = (shares[i] ?? 0) + 1;
  return shares;
}

/**
 * Runs the load: `options.threads` worker threads, each with its share of the connections
 * and of the requests; all connect and warm up, then measure together from one `go`.
 * Aborting `signal` stops the run and resolves with what was measured so far.
 *
 * @throws {LoadStartError} when a thread cannot connect (nothing is measured then)
 * @example
 * const result = await runLoad(options, { onProgress: (p) => draw(p) });
 * console.log(result.completed / result.seconds, 'requests per second');
 */
export function runLoad(
  options: BenchOptions,
  hooks: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal } = {},
): Promise<LoadResult> {
  const connections = splitEvenly(options.connections, options.threads);
  const requests = splitByWeight(options.requests, connections);
  const warmup = splitByWeight(options.warmup, connections);
  const workers = connections.map((count, i) => {
    const workerData: LoadWorkerData = {
      options: {
        ip: options.ip,
        port: options.port,
        connections: count,
        pipeline: options.pipeline,
        command: options.command,
        wire: options.wire,
        connectBatch: Math.max(1, Math.ceil(options.connectBatch / options.threads)),
        timeoutMs: options.timeoutMs,
        tls: options.tls,
      },
      requests: requests[i] ?? 0,
      warmup: warmup[i] ?? 0,
      durationMs: options.durationMs,
    };
    return new Worker(LOAD_WORKER, { workerData });
  });
  const send = (message: ToLoadWorker) => {
    for (const worker of workers) worker.postMessage(message);
  };

  return new Promise<LoadResult>((resolve, reject) => {
    const progress = workers.map(() => ({ completed: 0, errors: 0, latencySumMs: 0 }));
    const done: ({ stats: LoadRunStats; histogram: string } | undefined)[] = workers.map(
      () => undefined,
    );
    let ready = 0;
    let startedAt = 0;
    let interrupted = false;
    let settled = false;

    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      for (const worker of workers) void worker.terminate();
      reject(error);
    };
    const onAbort = () => {
      interrupted = true;
      send({ type: 'stop' });
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal?.aborted) onAbort();

    const finish = () => {
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      const results = done.filter((d) => d !== undefined);
      const failures: Record<string, number> = {};
      for (const { stats } of results) {
        for (const [code, count] of Object.entries(stats.failures)) {
          failures[code] = (failures[code] ?? 0) + count;
        }
      }
      resolve({
        completed: results.reduce((sum, r) => sum + r.stats.completed, 0),
        errors: results.reduce((sum, r) => sum + r.stats.errors, 0),
        // Every thread timed the same interval from the same `go`; the slowest one ends it.
        seconds: Math.max(0, ...results.map((r) => r.stats.elapsedMs)) / 1000,
        histogram: mergeHistograms(results.map((r) => r.histogram)),
        failures,
        interrupted,
      });
    };

    workers.forEach((worker, i) => {
      worker.on('message', (message: FromLoadWorker) => {
        if (settled) return;
        switch (message.type) {
          case 'fatal':
            fail(new LoadStartError(message.code, message.message));
            break;
          case 'ready':
            ready += 1;
            if (ready === workers.length) {
              startedAt = performance.now();
              send({ type: 'go' });
            }
            break;
          case 'progress':
            progress[i] = message;
            hooks.onProgress?.({
              completed: progress.reduce((sum, p) => sum + p.completed, 0),
              errors: progress.reduce((sum, p) => sum + p.errors, 0),
              latencySumMs: progress.reduce((sum, p) => sum + p.latencySumMs, 0),
              elapsedMs: performance.now() - startedAt,
            });
            break;
          case 'done':
            done[i] = message;
            if (done.every((d) => d !== undefined)) finish();
            break;
        }
      });
      worker.on('error', (err) => fail(err));
      worker.on('exit', (code) => {
        if (!settled && done[i] === undefined) {
          fail(new Error(`load thread ${i + 1} exited (code ${code}) before reporting`));
        }
      });
    });
  });
}
