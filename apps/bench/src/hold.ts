import { connect, type RttClient } from '@rtt/protocol/node';
import type { BenchCommand, BenchWire } from './cli.ts';
import { LoadStartError } from './errors.ts';
import { createLatencyHistogram, type Histogram, recordMillis } from './latency.ts';
import { benchTlsOptions } from './load-connection.ts';
import { inBatches } from './load-thread.ts';

export interface HoldOptions {
  ip: string;
  port: number;
  /** Connections to open and keep open at once. */
  count: number;
  wire: BenchWire;
  command: BenchCommand;
  /** Connections being opened at the same time. */
  connectBatch: number;
  timeoutMs: number;
  /** TLS 1.3 around the framed wire; default plain TCP. */
  tls?: boolean;
  signal?: AbortSignal;
  /** Called as connections open (throttled by the caller if it prints). */
  onProgress?: (opened: number, failed: number) => void;
  /** Called once every connection is open, before any request: e.g. to read the server's memory. */
  onHeld?: (held: number) => void | Promise<void>;
  /** Called once every request is answered, with every connection still open. */
  onAnswered?: (answered: number) => void | Promise<void>;
}

export interface HoldResult {
  /** Connections asked for. */
  count: number;
  /** Connections open (hello done) when the requests went out. */
  held: number;
  /** Requests answered with an OK status. */
  answered: number;
  /** Connections that failed to open, or whose request failed or went unanswered. */
  errors: number;
  /** Time to open every connection. */
  connectSeconds: number;
  /** Time from the first request sent to the last answer. */
  seconds: number;
  histogram: Histogram;
  /** Failure codes and counts, e.g. `{ ETIMEDOUT: 2 }`. */
  failures: Record<string, number>;
  interrupted: boolean;
}

// Transient failures worth another try: a full accept queue shows up as resets or timeouts.
const RETRYABLE = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNREFUSED',
  'EADDRNOTAVAIL',
  'RTT_ERR_TIMEOUT',
]);
const ATTEMPTS = 3;

const codeOf = (err: unknown): string => {
  const error = err as { code?: string; cause?: { code?: string } };
  return error.cause?.code ?? error.code ?? 'RTT_ERR_UNKNOWN';
};

/**
 * `promise`, or an `ETIMEDOUT` rejection after `ms`.
 *
 * @example
 * const reply = await withTimeout(client.request('PING'), 10_000);
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens `count` connections (hello included) and keeps them all open, then sends one
 * request on each, all at once, and counts the answers. This is the "10,000 clients at
 * once" test: it shows whether a server caps simultaneous clients (the seed served only
 * `-t` at a time) and what each open connection costs it.
 *
 * @throws {LoadStartError} when not one connection can be opened (e.g. connection refused)
 * @example
 * const result = await holdConnections({ ip: '127.0.0.1', port: 7777, count: 10_000, wire: 'framed', command: 'PING', connectBatch: 200, timeoutMs: 10_000 });
 * console.log(`${result.answered} of ${result.count} answered`);
 */
export async function holdConnections(options: HoldOptions): Promise<HoldResult> {
  const { ip, port, count, wire, command, connectBatch, timeoutMs, signal } = options;
  const failures: Record<string, number> = {};
  const fail = (err: unknown) => {
    const code = codeOf(err);
    failures[code] = (failures[code] ?? 0) + 1;
  };
  let opened = 0;
  let failed = 0;
  let fatal: unknown;

  const openOne = async (): Promise<RttClient | undefined> => {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (signal?.aborted || fatal !== undefined) return undefined;
      try {
        const connection = await connect({
          host: ip,
          port,
          wire,
          timeoutMs,
          ...(options.tls === true ? { tls: benchTlsOptions() } : {}),
        });
        opened += 1;
        options.onProgress?.(opened, failed);
        return connection;
      } catch (err) {
        const code = codeOf(err);
        // Refused before anything was accepted: no server there, not a full queue.
        if (code === 'ECONNREFUSED' && opened === 0) {
          fatal ??= err;
          return undefined;
        }
        if (attempt === ATTEMPTS || !RETRYABLE.has(code)) {
          fail(err);
          failed += 1;
          options.onProgress?.(opened, failed);
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    return undefined;
  };

  const connectStarted = performance.now();
  const connections = (await inBatches(count, connectBatch, openOne)).filter(
    (c): c is RttClient => c !== undefined,
  );
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const closeAll = async () => {
    await Promise.race([
      Promise.allSettled(connections.map((c) => c.close())),
      new Promise((resolve) => setTimeout(resolve, 2_000)),
    ]);
    for (const c of connections) c.stream.destroy();
  };
  if (fatal !== undefined && connections.length === 0) {
    const error = fatal as Error;
    throw new LoadStartError(codeOf(error), error.message);
  }

  const histogram = createLatencyHistogram();
  const live = connections.filter((c) => !c.stream.destroyed);
  for (let i = live.length; i < connections.length; i++) fail({ code: 'RTT_ERR_SERVER_GONE' });
  const result: HoldResult = {
    count,
    held: live.length,
    answered: 0,
    // Connections never tried (after Ctrl+C) are not failures.
    errors: failed + connections.length - live.length,
    connectSeconds,
    seconds: 0,
    histogram,
    failures,
    interrupted: signal?.aborted ?? false,
  };
  if (result.interrupted) {
    await closeAll();
    return result;
  }
  await options.onHeld?.(live.length);

  const started = performance.now();
  const replies = await Promise.allSettled(
    live.map((c) => withTimeout(c.request(command), timeoutMs)),
  );
  result.seconds = (performance.now() - started) / 1000;
  for (const reply of replies) {
    if (reply.status === 'fulfilled') {
      recordMillis(histogram, reply.value.rttMs);
      if (reply.value.ok) result.answered += 1;
      else fail({ code: 'RTT_ERR_STATUS' });
    } else fail(reply.reason);
  }
  result.errors = failed + connections.length - result.answered;
  result.interrupted = signal?.aborted ?? false;
  await options.onAnswered?.(result.answered);
  await closeAll();
  return result;
}
