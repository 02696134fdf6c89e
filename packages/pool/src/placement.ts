/** What placement needs to know of a thread (piscina's worker interface has these fields). */
export interface PlacementWorker {
  /** The thread's id (piscina's workers have it). */
  readonly id?: number;
  /** Tasks under way in the thread. */
  readonly currentUsage: number;
  readonly terminating?: boolean;
  readonly destroyed?: boolean;
}

export interface PlacementOptions {
  /** Threads to fill before any more start (one per core but one, by default). */
  activeThreads: number;
  /** Connections a thread holds before the pool grows. */
  connectionsPerThread: number;
  /** Ceiling on threads. */
  threads: number;
  /** Threads the pool has now, starting ones included. */
  totalThreads: () => number;
  /** Called when a task that waited in piscina's queue has been given a thread. */
  onDequeued?: () => void;
  /**
   * How many connections and tasks a thread holds. Default: its `currentUsage`. The pool
   * adds the connections it tracks itself, since their piscina tasks end once adopted.
   */
  usage?: (worker: PlacementWorker) => number;
}

const currentUsage = (worker: PlacementWorker): number => worker.currentUsage;

/**
 * The placement policy, as a piscina `loadBalancer` plus the bookkeeping that keeps piscina's
 * own queue from starting threads in bursts.
 *
 * Why not piscina's default (least busy, spawn when none is free): each connection occupies
 * its thread for as long as it lasts (counted through `usage`), so "free" workers run out at
 * once and the default
 * starts all `threads` threads, which on a 2-core machine spends the cores on switching
 * (measured: two busy session threads served 0.68x of what one did). The policy here:
 * 1. an idle thread takes the connection;
 * 2. otherwise the least busy thread takes it, as long as it holds fewer than
 *    `connectionsPerThread` connections;
 * 3. only when every thread is full does the pool start one more (returning `null` makes
 *    piscina queue the task and start a thread), up to `threads`; at that ceiling the least
 *    busy thread takes it anyway, so no connection ever waits for another to end.
 *
 * Piscina also starts a thread for every task submitted while its queue is not empty. To keep
 * growth to one thread at a time, the pool holds connections in its own backlog while a task
 * sits in piscina's queue: `queued` counts those, `submitting` tells a balancer call made
 * while submitting (a task being placed now) from one made when a thread frees up (a queued
 * task leaving the queue).
 */
export class Placement {
  readonly #options: PlacementOptions;
  /** Tasks sitting in piscina's queue. */
  queued = 0;
  /** True while the pool is inside `piscina.run()`. */
  submitting = false;

  constructor(options: PlacementOptions) {
    this.#options = options;
  }

  /**
   * Picks a thread for a task, or `null` to have piscina queue it (and start a thread if it
   * may). Callable as piscina's `loadBalancer`.
   *
   * @example
   * const placement = new Placement({ activeThreads: 2, connectionsPerThread: 100, threads: 32, totalThreads: () => 2 });
   * placement.choose([{ currentUsage: 3 }, { currentUsage: 1 }]); // the second one
   */
  choose<W extends PlacementWorker>(workers: readonly W[]): W | null {
    const usageOf = this.#options.usage ?? currentUsage;
    let best: W | null = null;
    let bestUsage = 0;
    for (const worker of workers) {
      if (worker.terminating || worker.destroyed) continue;
      const usage = usageOf(worker);
      if (usage === 0) {
        best = worker;
        bestUsage = 0;
        break;
      }
      if (best === null || usage < bestUsage) {
        best = worker;
        bestUsage = usage;
      }
    }
    const chosen = this.#accept(best, bestUsage, workers.length);
    if (chosen === null) {
      if (this.submitting) this.queued += 1;
    } else if (!this.submitting && this.queued > 0) {
      this.queued -= 1;
      // The pool may be holding connections behind this one: they can go now.
      this.#options.onDequeued?.();
    }
    return chosen;
  }

  #accept<W extends PlacementWorker>(best: W | null, usage: number, ready: number): W | null {
    if (best === null) return null;
    if (usage === 0) return best;
    const total = this.#options.totalThreads();
    // Grow towards one thread per core, one thread at a time (none is starting now).
    if (total < this.#options.activeThreads && total === ready) return null;
    if (usage < this.#options.connectionsPerThread) return best;
    // Every thread is full. If one is starting already, load the least busy meanwhile rather
    // than queue behind it. At the ceiling, keep loading the least busy: a connection must
    // never wait for another to end (the seed's cap of `-t` clients at once).
    if (total > ready || total >= this.#options.threads) return best;
    return null;
  }

  /** Whether new tasks must wait in the pool's own backlog rather than go to piscina now. */
  get mustHold(): boolean {
    return this.queued > 0;
  }
}
