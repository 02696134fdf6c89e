import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';

/** Options of {@link createPool}. */
export interface PoolOptions {
  /**
   * Module (path or URL) whose default export is the session handler made with `defineSession`.
   * Required for `adopt()`.
   */
  session?: string | URL;
  /** Module (path or URL) whose default export is the compute task made with `defineTask`. */
  task?: string | URL;
  /**
   * Most threads the pool may run. Default 32, the seed's default. `0` runs every session on
   * the calling thread, with no worker at all: a baseline to measure the pool against.
   */
  threads?: number;
  /**
   * Threads filled with connections before any more start. Default: one per core but one,
   * at least 1. The core left over runs the accepting main thread and the kernel's network
   * work; more busy threads than that only take turns (on 2 cores, measured: 1 thread served
   * 50 busy connections about 45% faster than 2: see the README).
   */
  activeThreads?: number;
  /**
   * Connections a thread holds before the pool starts another (up to `threads`). Default
   * 32768: a thread serves thousands of connections on its event loop, and every extra thread
   * costs its own heap without adding a core (measured with 10,000 held connections on 2
   * cores: 8192 started a second thread, and RSS per connection was 11.9 KiB against 7.5).
   */
  connectionsPerThread?: number;
  /** Milliseconds an idle thread beyond `activeThreads` lives. Default 30 000. */
  idleTimeout?: number;
  /** Milliseconds `close()` lets open sessions finish before forcing them. Default 5 000. */
  closeTimeout?: number;
  /** Cloned into every thread; session handlers read it as `control.data`. */
  data?: unknown;
  /**
   * Each thread's V8 heap limits (`worker_threads` `ResourceLimits`). A server holding many
   * idle connections wants a small `maxYoungGenerationSizeMb`: V8 grows a thread's young
   * generation to tens of MiB under a burst of new connections and keeps it (measured: 4 MiB
   * took 5,000 idle connections from 20 to 14 KiB each). Default: V8's.
   */
  resourceLimits?: ResourceLimits | undefined;
  /**
   * Receives what each thread's sessions report (see `SessionControl.setThreadReport`), on
   * the pool's thread: `threadId` is the reporting thread's (0 with `threads: 0`). Reports
   * come at most once per `reportInterval` per thread, and once more when a thread lets go of
   * its last session, so that a thread that ends has reported everything.
   */
  onReport?: ((report: unknown, threadId: number) => void) | undefined;
  /** Milliseconds between a thread's reports. Default 1 000. */
  reportInterval?: number;
  /**
   * Called on the pool's thread when a worker thread has gone (idle past `idleTimeout`, died,
   * or stopped by `close()`), with its id: what was kept per thread from its reports can go.
   */
  onThreadExit?: ((threadId: number) => void) | undefined;
}

/** Options after defaults and validation. */
export interface ResolvedPoolOptions {
  session: string | undefined;
  task: string | undefined;
  threads: number;
  activeThreads: number;
  connectionsPerThread: number;
  idleTimeout: number;
  closeTimeout: number;
  data: unknown;
  resourceLimits: ResourceLimits | undefined;
  onReport: ((report: unknown, threadId: number) => void) | undefined;
  reportInterval: number;
  onThreadExit: ((threadId: number) => void) | undefined;
}

function integerAtLeast(name: string, value: unknown, fallback: number, min: 0 | 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`options.${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min) {
    const kind = min === 0 ? 'a non-negative' : 'a positive';
    throw new RangeError(`options.${name} must be ${kind} integer, got ${value}`);
  }
  return value;
}

function nonNegativeNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`options.${name} must be a number, got ${typeof value}`);
  }
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`options.${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

function moduleLocation(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL) return value.href;
  if (typeof value === 'string' && value.length > 0) return value;
  throw new TypeError(`options.${name} must be a path or a URL`);
}

/** One thread per core but one, at least one. */
export function defaultActiveThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Validates options with precise messages and fills in defaults.
 *
 * @example
 * resolvePoolOptions({ threads: 4 }).activeThreads; // min(4, cores)
 */
export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const threads = integerAtLeast('threads', options.threads, 32, 0);
  const activeThreads = Math.min(
    threads,
    integerAtLeast('activeThreads', options.activeThreads, defaultActiveThreads(), 1),
  );
  return {
    session: moduleLocation('session', options.session),
    task: moduleLocation('task', options.task),
    threads,
    activeThreads,
    connectionsPerThread: integerAtLeast(
      'connectionsPerThread',
      options.connectionsPerThread,
      32_768,
      1,
    ),
    idleTimeout: nonNegativeNumber('idleTimeout', options.idleTimeout, 30_000),
    closeTimeout: nonNegativeNumber('closeTimeout', options.closeTimeout, 5_000),
    data: options.data,
    resourceLimits: resourceLimits(options.resourceLimits),
    onReport: callback('onReport', options.onReport),
    reportInterval: reportInterval(options.reportInterval),
    onThreadExit: callback('onThreadExit', options.onThreadExit),
  };
}

// Node's timers hold at most 2^31 - 1 ms; past that an interval fires every millisecond.
const MAX_TIMER_MS = 2 ** 31 - 1;

function reportInterval(value: unknown): number {
  const ms = integerAtLeast('reportInterval', value, 1_000, 1);
  if (ms > MAX_TIMER_MS) {
    throw new RangeError(`options.reportInterval must be at most ${MAX_TIMER_MS}, got ${ms}`);
  }
  return ms;
}

// Typed as the option is, checked for callers without types.
function callback<T extends (...args: never[]) => unknown>(
  name: string,
  value: T | undefined,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new TypeError(`options.${name} must be a function, got ${typeof value}`);
  }
  return value;
}

function resourceLimits(value: unknown): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`options.resourceLimits must be an object, got ${typeof value}`);
  }
  return { ...(value as ResourceLimits) };
}
