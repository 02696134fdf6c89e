import type { BenchCommand, BenchWire } from './cli.ts';
import { createLatencyHistogram, type Histogram, recordMillis } from './latency.ts';
import { ClientLoadConnection } from './load-connection.ts';
import type { LoadConnection, LoadSink } from './load-sink.ts';

export interface LoadThreadOptions {
  ip: string;
  port: number;
  connections: number;
  pipeline: number;
  command: BenchCommand;
  wire: BenchWire;
  connectBatch: number;
  timeoutMs: number;
  /** TLS 1.3 around the framed wire. */
  tls: boolean;
}

/** How a run ended and what it measured. */
export interface LoadRunStats {
  /** Requests answered, whatever their status. */
  completed: number;
  /** Requests answered with an error status, or never answered. */
  errors: number;
  elapsedMs: number;
  /** Codes and counts of connection failures, e.g. `{ ECONNRESET: 3 }`. */
  failures: Record<string, number>;
}

/**
 * Runs `task(0)` .. `task(count - 1)` with at most `limit` running at once, and returns
 * their results in order. Opening thousands of connections at once would overflow the
 * server's accept backlog, and dropped SYNs cost a one-second retransmit each.
 *
 * @example
 * const clients = await inBatches(1000, 200, () => connect({ port: 7777 }));
 */
export async function inBatches<T>(
  count: number,
  limit: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}

/**
 * One load generator: a set of connections sharing one request budget, one latency
 * histogram and one stop switch. A worker thread runs one of these; so can a test.
 *
 * @example
 * const thread = new LoadThread({ ip: '127.0.0.1', port, connections: 50, pipeline: 1, ... });
 * await thread.connect();
 * const stats = await thread.run({ requests: 100_000 });
 * thread.close();
 */
export class LoadThread implements LoadSink {
  readonly options: LoadThreadOptions;
  histogram: Histogram = createLatencyHistogram();
  completed = 0;
  errors = 0;
  /** Sum of answered round-trip times, for the progress line's average. */
  latencySumMs = 0;
  #connections: LoadConnection[] = [];
  #remaining = 0;
  #inFlight = 0;
  #stopped = false;
  #lastProgress = 0;
  #failures: Record<string, number> = {};
  #settle: (() => void) | undefined;

  constructor(options: LoadThreadOptions) {
    this.options = options;
  }

  /** Connections still open. */
  get alive(): number {
    let alive = 0;
    for (const connection of this.#connections) if (connection.alive) alive += 1;
    return alive;
  }

  /**
   * Opens every connection (at most `connectBatch` at once) and says hello on each. The first
   * failure closes the others and is thrown: a run with fewer connections than asked would
   * measure something else.
   */
  async connect(): Promise<void> {
    const { ip, port, connections, connectBatch, timeoutMs, wire, command, pipeline, tls } =
      this.options;
    let failure: unknown;
    const opened = await inBatches<LoadConnection | undefined>(
      connections,
      connectBatch,
      async () => {
        if (failure !== undefined) return undefined;
        try {
          return await ClientLoadConnection.open({
            ip,
            port,
            wire,
            command,
            pipeline,
            timeoutMs,
            tls,
            sink: this,
          });
        } catch (err) {
          failure ??= err;
          return undefined;
        }
      },
    );
    this.#connections = opened.filter((c): c is LoadConnection => c !== undefined);
    if (failure !== undefined) {
      this.close();
      throw failure;
    }
  }

  take(): boolean {
    if (this.#stopped || this.#remaining <= 0) return false;
    this.#remaining -= 1;
    this.#inFlight += 1;
    return true;
  }

  answered(rttMs: number, ok: boolean): void {
    this.#inFlight -= 1;
    this.completed += 1;
    this.latencySumMs += rttMs;
    if (!ok) this.errors += 1;
    recordMillis(this.histogram, rttMs);
    this.#lastProgress = performance.now();
    if (this.#inFlight === 0) this.#checkDone();
  }

  lost(_connection: LoadConnection, inFlight: number, error: Error): void {
    this.#inFlight -= inFlight;
    // A connection lost between requests still failed the run: count it at least once.
    this.errors += Math.max(1, inFlight);
    // The socket's own errno (ECONNRESET, EPIPE) says more than the client's wrapper around it.
    const { code, cause } = error as { code?: string; cause?: { code?: string } };
    const failure = cause?.code ?? code ?? 'RTT_ERR_SOCKET';
    this.#failures[failure] = (this.#failures[failure] ?? 0) + 1;
    this.#checkDone();
  }

  #checkDone(): void {
    if (this.#inFlight > 0) return;
    if (this.#stopped || this.#remaining <= 0 || this.alive === 0) this.#settle?.();
  }

  /** Starts measuring afresh: the warm-up's answers are not part of the report. */
  resetStats(): void {
    this.histogram = createLatencyHistogram();
    this.completed = 0;
    this.errors = 0;
    this.latencySumMs = 0;
    this.#failures = {};
  }

  /**
   * Sends `requests` requests (or keeps going for `durationMs`) over every open connection
   * and resolves once all are answered, the run is stopped, or no connection is left. A run
   * whose answers stop coming for `timeoutMs` gives up on the connections still waiting.
   */
  run({ requests, durationMs }: { requests: number; durationMs?: number }): Promise<LoadRunStats> {
    const started = performance.now();
    this.#remaining = durationMs === undefined ? requests : Number.POSITIVE_INFINITY;
    this.#stopped = false;
    this.#lastProgress = started;
    return new Promise<LoadRunStats>((resolve) => {
      const deadline =
        durationMs === undefined ? undefined : setTimeout(() => this.stop(), durationMs);
      const watchdog = setInterval(
        () => {
          if (
            this.#inFlight === 0 ||
            performance.now() - this.#lastProgress < this.options.timeoutMs
          )
            return;
          for (const connection of this.#connections) {
            const waiting = connection.inFlight;
            if (waiting === 0) continue;
            connection.close();
            this.lost(
              connection,
              waiting,
              Object.assign(new Error('no answer in time'), { code: 'RTT_ERR_TIMEOUT' }),
            );
          }
        },
        Math.max(50, this.options.timeoutMs / 4),
      );
      this.#settle = () => {
        this.#settle = undefined;
        clearTimeout(deadline);
        clearInterval(watchdog);
        resolve({
          completed: this.completed,
          errors: this.errors,
          elapsedMs: performance.now() - started,
          failures: { ...this.#failures },
        });
      };
      for (const connection of this.#connections) connection.run();
      this.#checkDone();
    });
  }

  /** Stops sending; the run resolves once the requests in flight are answered. */
  stop(): void {
    this.#stopped = true;
    this.#checkDone();
  }

  /**
   * Gives up on the requests in flight (after a stop that waited long enough): closes every
   * connection without counting them as failures, and ends the run.
   */
  abandon(): void {
    this.#stopped = true;
    this.close();
    this.#inFlight = 0;
    this.#checkDone();
  }

  /** Closes every connection. */
  close(): void {
    for (const connection of this.#connections) connection.close();
  }
}
