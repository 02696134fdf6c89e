import { getHeapStatistics } from 'node:v8';

/**
 * Giving memory back once a thread has gone quiet after growing.
 *
 * V8 returns a heap's memory to the system only after a full collection that compacts it,
 * and it starts one by itself when the heap reaches its next limit, not when the load is
 * gone: a server that grew by 60 MiB in a burst of connections kept it for as long as it then
 * sat idle. V8's `--optimize-for-size` makes it give memory back, but it also makes every
 * thread collect more often while it works (about 5% of a TLS handshake's CPU, 17% of a plain
 * connection's). This does what V8's own memory reducer does in a browser tab that goes to
 * the background, for a server thread: once a thread that has worked since the last time has
 * allocated next to nothing, or far less than at its busiest, for a few seconds, one
 * memory-reducing collection.
 *
 * It needs V8's collector function (`node --expose-gc`, given by the server's command line);
 * without it nothing is started.
 */

/** V8's collector, as `--expose-gc` gives it (the options are V8's gc extension's). */
export type GcFunction = (options: {
  type: 'major';
  execution: 'async';
  flavor: 'last-resort';
}) => unknown;

/** What the policy reads from a thread's heap at each look. */
export interface HeapReading {
  /** Bytes allocated since the thread started (grows while the thread works). */
  allocated: number;
}

export interface ReclaimPolicyOptions {
  /** Bytes allocated between two looks under which the thread always counts as quiet. */
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
}

export const DEFAULT_RECLAIM: ReclaimPolicyOptions & { intervalMs: number } = {
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
};

/**
 * Decides, one heap reading at a time, when a thread should give memory back: after
 * `quietLooks` quiet readings in a row (under `quietBytes`, or under `calmFraction` of the
 * busiest reading since it last did), once it has allocated `workBytes` since it last did
 * (whatever it allocated may be garbage by now: only a collection can tell, and a heap's
 * size says nothing about it until then).
 *
 * @example
 * const policy = new ReclaimPolicy(DEFAULT_RECLAIM);
 * if (policy.look({ allocated: 5e6 })) gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
 */
export class ReclaimPolicy {
  readonly #options: ReclaimPolicyOptions;
  #last: number | undefined;
  #since = 0;
  #busiest = 0;
  #quiet = 0;

  constructor(options: ReclaimPolicyOptions) {
    this.#options = options;
  }

  /** Takes one reading; true when memory should be given back now. */
  look(reading: HeapReading): boolean {
    const allocated = this.#last === undefined ? reading.allocated : reading.allocated - this.#last;
    this.#last = reading.allocated;
    this.#since += allocated;
    this.#busiest = Math.max(this.#busiest, allocated);
    const quietUnder = Math.max(
      this.#options.quietBytes,
      this.#busiest * this.#options.calmFraction,
    );
    this.#quiet = allocated < quietUnder ? this.#quiet + 1 : 0;
    if (this.#quiet < this.#options.quietLooks || this.#since < this.#options.workBytes) {
      return false;
    }
    this.#quiet = 0;
    this.#since = 0;
    this.#busiest = 0;
    return true;
  }
}

/** What a thread gave back, for a log line. */
export interface Reclaimed {
  /** Heap held before and after, in bytes. */
  before: number;
  after: number;
}

export interface MemoryReclaim {
  /** Stops looking (the timer never keeps a thread alive anyway). */
  stop(): void;
}

let running: MemoryReclaim | undefined;

function readHeap(): { allocated: number | undefined; committed: number } {
  const heap = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & {
    total_allocated_bytes?: number;
  };
  return { allocated: heap.total_allocated_bytes, committed: heap.total_heap_size };
}

/**
 * Starts giving this thread's memory back once it goes quiet (see the module's comment).
 * Once per thread: a second call returns the first one's handle. `undefined` when V8's
 * collector is not exposed (the server was started without `--expose-gc`).
 *
 * @example
 * startMemoryReclaim({ onReclaimed: ({ before, after }) => log.debug(`heap ${before} -> ${after}`) });
 */
export function startMemoryReclaim(
  options: { onReclaimed?: (reclaimed: Reclaimed) => void; gc?: GcFunction | undefined } = {},
): MemoryReclaim | undefined {
  if (running !== undefined) return running;
  const gc = options.gc ?? (globalThis as { gc?: GcFunction }).gc;
  // Node >= 22's heap statistics count allocation; without that count there is no telling
  // quiet from busy.
  if (typeof gc !== 'function' || readHeap().allocated === undefined) return undefined;
  const policy = new ReclaimPolicy(DEFAULT_RECLAIM);
  let pending: number | undefined;
  const timer = setInterval(() => {
    const { allocated = 0, committed } = readHeap();
    if (pending !== undefined) {
      options.onReclaimed?.({ before: pending, after: committed });
      pending = undefined;
    }
    if (!policy.look({ allocated })) return;
    pending = committed;
    // A task of its own, not inside this callback; it pauses this thread for tens of ms
    // with thousands of connections held, at a moment the thread has next to nothing to do.
    gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
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
      `Quiet: heap ${(heap.before / MIB).toFixed(1)} -> ${(heap.after / MIB).toFixed(1)} MiB given back to the system`,
  );
}
