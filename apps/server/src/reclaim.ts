import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';

/**
 * Giving memory back once a thread has gone quiet after working.
 *
 * V8 returns a heap's memory to the system only after a full collection that compacts it,
 * and it starts one by itself when the heap reaches its next limit, not when the load is
 * gone: a server that grew by 60 MiB in a burst of connections kept it for as long as it then
 * sat idle. V8's `--optimize-for-size` makes it give memory back, but it also makes every
 * thread collect more often while it works (about 5% of a TLS handshake's CPU). This does what
 * V8's own memory reducer does for a browser tab sent to the background, for a server thread:
 * once a thread that has worked since the last time has allocated next to nothing, or far
 * less than at its busiest, for a few seconds, one memory-reducing collection.
 *
 * It needs V8's collector function (`node --expose-gc`, given by the server's command line);
 * without it nothing is started. Allocation is V8's count (`total_allocated_bytes`, Node.js
 * 25 and later), or estimated from CPU time where V8 does not count it.
 */

/** V8's collector, as `--expose-gc` gives it (the options are V8's gc extension's). */
export type GcFunction = (options: {
  type: 'major';
  execution: 'sync';
  flavor: 'last-resort';
}) => unknown;

/** What the policy reads from a thread's heap at each look. */
export interface HeapReading {
  /** Bytes allocated since the thread started (grows while the thread works). */
  allocated: number;
  /** When the reading was taken, in ms (`performance.now()`). */
  at: number;
}

export interface ReclaimPolicyOptions {
  /** The pace at which the thread is looked at, in ms: allocation is counted per this much time. */
  intervalMs: number;
  /** Bytes allocated per interval under which the thread always counts as quiet. */
  quietBytes: number;
  /**
   * A look is quiet too when it allocated less than this fraction of the busiest look since
   * memory was last given back: the load has fallen well below what grew the heap.
   */
  calmFraction: number;
  /** Quiet looks in a row before memory is given back. */
  quietLooks: number;
  /** Bytes the thread must have allocated since memory was last given back (or since start). */
  workBytes: number;
  /**
   * A collection that gave back less than this (bytes) doubles the looks to wait before the
   * next, up to `maxWaitLooks`; one that gave back more resets the wait.
   */
  worthBytes: number;
  maxWaitLooks: number;
}

export const DEFAULT_RECLAIM: ReclaimPolicyOptions = {
  intervalMs: 1_000,
  // A thread holding thousands of idle connections allocates a few KiB a second (timers,
  // metrics); a pool thread serving four clients that each send a request every 10 ms,
  // about 1 MiB; one serving a busy client, tens of MiB.
  quietBytes: 256 * 1024,
  // Those four clients, after an attack or a burst of connections that allocated 10 MiB a
  // second or more, are quiet; the same four clients alone, before or since, are not (a
  // steady load has nothing to give back, and would pay for a collection every few seconds).
  calmFraction: 1 / 8,
  quietLooks: 3,
  // What a few hundred connections opened and closed allocate: a thread that has done less
  // since has little to give back, and a collection of a large heap pauses it for a while.
  workBytes: 8 * 1024 * 1024,
  // A load that comes back every few seconds (clients polling, or someone opening and
  // closing connections to make the server collect) leaves little garbage a collection
  // would not find anyway: then the wait doubles, up to about five minutes.
  worthBytes: 4 * 1024 * 1024,
  maxWaitLooks: 300,
};

/**
 * Decides, one heap reading at a time, when a thread should give memory back: after
 * `quietLooks` quiet readings in a row (under `quietBytes`, or under `calmFraction` of the
 * busiest reading since it last did), once it has allocated `workBytes` since it last did
 * (whatever it allocated may be garbage by now: only a collection can tell, and a heap's
 * size says nothing about it until then), and no sooner than its wait after a collection
 * that gave back little.
 *
 * @example
 * const policy = new ReclaimPolicy(DEFAULT_RECLAIM);
 * if (policy.look({ allocated: 5e6, at: performance.now() })) {
 *   gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
 *   policy.collected(60e6, 20e6, { allocated: 5e6, at: performance.now() });
 * }
 */
export class ReclaimPolicy {
  readonly #options: ReclaimPolicyOptions;
  #last: HeapReading | undefined;
  #since = 0;
  #busiest = 0;
  #quiet = 0;
  #looksSince = 0;
  #wait = 0;

  constructor(options: ReclaimPolicyOptions) {
    this.#options = options;
  }

  /** Takes one reading; true when memory should be given back now. */
  look(reading: HeapReading): boolean {
    const last = this.#last;
    this.#last = reading;
    this.#looksSince += 1;
    if (last === undefined) {
      // Everything allocated before the first look (start-up) is work to give back, but not
      // a pace: a thread under real load would count as quiet against it.
      this.#since += reading.allocated;
      return false;
    }
    const allocated = reading.allocated - last.allocated;
    this.#since += allocated;
    // Per interval, so that a look delayed by a busy event loop is not taken for a burst.
    const elapsed = Math.max(reading.at - last.at, this.#options.intervalMs);
    const pace = (allocated * this.#options.intervalMs) / elapsed;
    this.#busiest = Math.max(this.#busiest, pace);
    const quietUnder = Math.max(
      this.#options.quietBytes,
      this.#busiest * this.#options.calmFraction,
    );
    this.#quiet = pace < quietUnder ? this.#quiet + 1 : 0;
    if (this.#quiet < this.#options.quietLooks || this.#since < this.#options.workBytes) {
      return false;
    }
    if (this.#looksSince <= this.#wait) return false;
    this.#quiet = 0;
    this.#since = 0;
    this.#busiest = 0;
    this.#looksSince = 0;
    return true;
  }

  /**
   * The collection {@link look} asked for is done: the heap held `before` and `after` bytes (a
   * little given back lengthens the next wait), and counting goes on from `reading`, taken
   * after it (the collection itself, whose CPU time stands for allocation where V8 does not
   * count it, is not work).
   */
  collected(before: number, after: number, reading: HeapReading): void {
    this.#last = reading;
    const { worthBytes, maxWaitLooks } = this.#options;
    this.#wait = before - after >= worthBytes ? 0 : Math.min(maxWaitLooks, 2 * this.#wait || 8);
  }
}

/** What a thread gave back, for a log line. */
export interface Reclaimed {
  /** Heap held before and after, in bytes. */
  before: number;
  after: number;
  /** How long the collection paused the thread, in ms. */
  pauseMs: number;
}

export interface MemoryReclaim {
  /** Stops looking (the timer never keeps a thread alive anyway). */
  stop(): void;
}

let running: MemoryReclaim | undefined;

// Where V8 does not count allocation (Node.js before 25, where the server serves every session
// on the main thread anyway), the thread's CPU time stands in for it: the server allocates
// roughly 30 to 120 bytes per µs of its work (about 13 KB for an accepted connection's 150 µs,
// 2.5 KB for a request's 20). Node.js 22 then gives memory back as 26 does; Node.js 20's
// collector ignores the last-resort flavour and keeps its pages.
const BYTES_PER_CPU_MICROSECOND = 64;

function cpuAsAllocation(): number {
  const threadUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  const usage = threadUsage === undefined ? process.cpuUsage() : threadUsage.call(process);
  return (usage.user + usage.system) * BYTES_PER_CPU_MICROSECOND;
}

function readHeap(): { allocated: number; committed: number } {
  const heap = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & {
    total_allocated_bytes?: number;
  };
  return {
    allocated: heap.total_allocated_bytes ?? cpuAsAllocation(),
    committed: heap.total_heap_size,
  };
}

/** Why {@link startMemoryReclaim} started nothing, for a debug line; `undefined` if it can run. */
export function reclaimUnavailable(gc = (globalThis as { gc?: unknown }).gc): string | undefined {
  return typeof gc === 'function' ? undefined : "V8's collector is not exposed (node --expose-gc)";
}

/**
 * Starts giving this thread's memory back once it goes quiet (see the module's comment).
 * Once per thread: a second call returns the first one's handle. `undefined` when it cannot
 * run here ({@link reclaimUnavailable} says why).
 *
 * @example
 * startMemoryReclaim({ onReclaimed: (heap) => logReclaimed(log, heap) });
 */
export function startMemoryReclaim(
  options: {
    onReclaimed?: (reclaimed: Reclaimed) => void;
    /** For tests: V8's collector and heap statistics by default. */
    gc?: GcFunction | undefined;
    heap?: () => { allocated: number; committed: number };
  } = {},
): MemoryReclaim | undefined {
  if (running !== undefined) return running;
  const gc = options.gc ?? (globalThis as { gc?: GcFunction }).gc;
  if (typeof gc !== 'function') return undefined;
  const heap = options.heap ?? readHeap;
  const policy = new ReclaimPolicy(DEFAULT_RECLAIM);
  const timer = setInterval(() => {
    const { allocated, committed: before } = heap();
    if (!policy.look({ allocated, at: performance.now() })) return;
    // Here and now: the thread has next to nothing else to do, and what it gave back is read
    // right after. With 10,000 connections held this pauses it for tens of ms.
    const start = performance.now();
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const end = performance.now();
    const { allocated: since, committed: after } = heap();
    policy.collected(before, after, { allocated: since, at: end });
    options.onReclaimed?.({ before, after, pauseMs: end - start });
  }, DEFAULT_RECLAIM.intervalMs);
  timer.unref();
  const handle: MemoryReclaim = {
    stop() {
      clearInterval(timer);
      if (running === handle) running = undefined;
    },
  };
  running = handle;
  return handle;
}

const MIB = 1024 * 1024;

/**
 * The debug line for what a thread gave back.
 *
 * @example
 * startMemoryReclaim({ onReclaimed: (heap) => logReclaimed(log, heap) });
 */
export function logReclaimed(
  log: { event(level: 'debug', kind: string, message: () => string): void },
  heap: Reclaimed,
): void {
  log.event(
    'debug',
    'memory given back',
    () =>
      `Quiet: heap ${(heap.before / MIB).toFixed(1)} -> ${(heap.after / MIB).toFixed(1)} MiB, given back to the system in ${heap.pauseMs.toFixed(0)} ms (${threadId === 0 ? 'main thread' : `thread ${threadId}`})`,
  );
}
