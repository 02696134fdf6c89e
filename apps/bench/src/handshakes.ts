import { connect } from '@rtt/protocol/node';
import type { BenchCommand } from './cli.ts';
import { LoadStartError } from './errors.ts';
import { withTimeout } from './hold.ts';
import { createLatencyHistogram, recordMillis } from './latency.ts';
import { benchTlsOptions } from './load-connection.ts';
import type { LoadResult } from './run-load.ts';

/** Options for {@link runHandshakes}. */
export interface HandshakeOptions {
  ip: string;
  port: number;
  /** Connections cycling at the same time. */
  connections: number;
  /** Handshakes to measure, shared by all connections; ignored when `durationMs` is set. */
  handshakes: number;
  durationMs?: number | undefined;
  /** Handshakes done (and not measured) first: TLS session caches, JIT, the server's pool. */
  warmup: number;
  /** The one request each connection sends before it closes. */
  command: BenchCommand;
  /** TLS 1.3 around the framed wire; without it, TCP and the framed hello alone. */
  tls: boolean;
  /** Time allowed for one connect, hello and answer. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Running totals, for a progress line. */
  onProgress?: ((completed: number, latencySumMs: number, elapsedMs: number) => void) | undefined;
}

/**
 * What {@link runHandshakes} measured: a load run's figures, where one operation is a cycle
 * (connected, keys agreed, one request answered OK, closed), an error a cycle that failed
 * (refused, reset, timed out, an error status), and the histogram times connect to keys
 * agreed (TCP, TLS, our hello).
 */
export type HandshakeResult = LoadResult;

const codeOf = (err: unknown): string => {
  const error = err as { code?: string; cause?: { code?: string } };
  return error.cause?.code ?? error.code ?? 'RTT_ERR_UNKNOWN';
};

/**
 * The handshake rate: `connections` lanes, each over and over connecting (TLS 1.3 with
 * `tls`), agreeing keys, sending one request and closing. It runs on the calling thread: a
 * TLS handshake costs the client about what it costs the server, so the rate it finds on a
 * shared machine is the same for every server it is pointed at, which is what a side-by-side
 * ratio needs.
 *
 * @throws {LoadStartError} when the very first connection is refused (no server there)
 * @example
 * const result = await runHandshakes({ ip: '127.0.0.1', port: 7777, connections: 8, handshakes: 2000, warmup: 200, command: 'PING', tls: true, timeoutMs: 10_000 });
 * console.log(result.completed / result.seconds, 'handshakes per second');
 */
export async function runHandshakes(options: HandshakeOptions): Promise<HandshakeResult> {
  const { ip, port, command, timeoutMs, signal } = options;
  const connectOptions = {
    host: ip,
    port,
    timeoutMs,
    ...(options.tls ? { tls: benchTlsOptions() } : {}),
  };
  let histogram = createLatencyHistogram();
  let failures: Record<string, number> = {};
  let completed = 0;
  let errors = 0;
  let latencySumMs = 0;
  let anyConnected = false;
  let fatal: unknown;

  // One cycle; a refused first connection is kept in `fatal` and stops every lane.
  const cycle = async (): Promise<void> => {
    const started = performance.now();
    try {
      const client = await connect(connectOptions);
      anyConnected = true;
      const handshakeMs = performance.now() - started;
      try {
        const reply = await withTimeout(client.request(command), timeoutMs);
        if (!reply.ok) throw Object.assign(new Error('error status'), { code: 'RTT_ERR_STATUS' });
      } finally {
        await client.close();
      }
      completed += 1;
      latencySumMs += handshakeMs;
      recordMillis(histogram, handshakeMs);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'ECONNREFUSED' && !anyConnected) {
        fatal ??= err;
        return;
      }
      errors += 1;
      failures[code] = (failures[code] ?? 0) + 1;
    }
  };

  const phase = async (budget: number, durationMs: number | undefined) => {
    let remaining = durationMs === undefined ? budget : Number.POSITIVE_INFINITY;
    let stopped = false;
    const deadline =
      durationMs === undefined ? undefined : setTimeout(() => (stopped = true), durationMs);
    const started = performance.now();
    const progress = setInterval(
      () => options.onProgress?.(completed, latencySumMs, performance.now() - started),
      250,
    );
    const lane = async () => {
      while (!stopped && remaining > 0 && fatal === undefined && !signal?.aborted) {
        remaining -= 1;
        await cycle();
      }
    };
    await Promise.all(Array.from({ length: options.connections }, lane));
    clearTimeout(deadline);
    clearInterval(progress);
    return (performance.now() - started) / 1000;
  };

  if (options.warmup > 0) await phase(options.warmup, undefined);
  if (fatal === undefined) {
    histogram = createLatencyHistogram();
    failures = {};
    completed = 0;
    errors = 0;
    latencySumMs = 0;
  }
  const seconds = fatal === undefined ? await phase(options.handshakes, options.durationMs) : 0;
  if (fatal !== undefined) {
    const error = fatal as Error;
    throw new LoadStartError(codeOf(error), error.message);
  }
  return {
    completed,
    errors,
    seconds,
    histogram,
    failures,
    interrupted: signal?.aborted ?? false,
  };
}
