import type { Clock, TimerHandle } from './session.ts';

/** Where a {@link Deadlines} queue keeps its bookkeeping on each item. */
export const kDeadline: unique symbol = Symbol('rtt.deadline');
export const kSlot: unique symbol = Symbol('rtt.deadlineSlot');
export const kExpire: unique symbol = Symbol('rtt.deadlineExpired');

/** Something with at most one deadline at a time, kept in a {@link Deadlines} queue. */
export interface Timed {
  /** When it falls due, on the clock's `now()`. */
  [kDeadline]: number;
  /** Its place in the queue's heap; -1 when it has no deadline. */
  [kSlot]: number;
  /** Called once when the deadline is reached (the item is out of the queue by then). */
  [kExpire](): void;
}

const queues = new WeakMap<Clock, Deadlines>();

/**
 * Every deadline set on one clock, in a binary heap, with one timer of that clock for the
 * earliest. A server holds thousands of idle connections, each with a deadline (its handshake,
 * then its idle timeout): a Node `Timeout` and a closure for each cost about 200 B per
 * connection (heap snapshots at 15,000 held connections); here each costs two numbers on the
 * item itself. Each deadline is still met exactly, with no sweep interval: the one timer is
 * set for the earliest, and set again as that changes.
 *
 * @example
 * const deadlines = Deadlines.of(systemClock);
 * deadlines.set(connection, systemClock.now() + 5_000); // connection[kExpire]() in 5 s
 * deadlines.clear(connection);
 */
export class Deadlines {
  readonly #clock: Clock;
  readonly #heap: Timed[] = [];
  #timer: TimerHandle;
  // When the timer is set for, or Infinity when none is set.
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#expireDue();
  };

  private constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * The queue of `clock` (one per clock, made on first use).
   * @example
   * Deadlines.of(clock).set(item, clock.now() + 1_000);
   */
  static of(clock: Clock): Deadlines {
    let queue = queues.get(clock);
    if (queue === undefined) {
      queue = new Deadlines(clock);
      queues.set(clock, queue);
    }
    return queue;
  }

  /** Deadlines set now. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Sets `item`'s deadline to `at` (replacing the one it had).
   * @example
   * deadlines.set(item, clock.now() + 300_000);
   */
  set(item: Timed, at: number): void {
    if (item[kSlot] >= 0) this.#remove(item);
    item[kDeadline] = at;
    item[kSlot] = this.#heap.length;
    this.#heap.push(item);
    this.#up(item[kSlot]);
    this.#arm();
  }

  /**
   * Takes `item`'s deadline away, if it has one.
   * @example
   * deadlines.clear(item);
   */
  clear(item: Timed): void {
    if (item[kSlot] < 0) return;
    this.#remove(item);
    this.#arm();
  }

  #expireDue(): void {
    const heap = this.#heap;
    const now = this.#clock.now();
    // Each item is taken out before it hears of it, so that it may set a new deadline.
    while (heap.length > 0 && (heap[0] as Timed)[kDeadline] <= now) {
      const item = heap[0] as Timed;
      this.#remove(item);
      try {
        item[kExpire]();
      } catch (err) {
        // One item's failure must not strand the others' deadlines.
        this.#arm();
        throw err;
      }
    }
    this.#arm();
  }

  // Keeps the one timer set for the earliest deadline. A timer set for a later deadline than
  // the earliest is set again; one set for an earlier one (the item that had it was cleared)
  // is left to fire and find nothing due: cheaper than clearing and setting on every clear.
  #arm(): void {
    const heap = this.#heap;
    if (heap.length === 0) {
      if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    const at = (heap[0] as Timed)[kDeadline];
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    // A platform timer may fire a fraction of a millisecond before `now()` says it is due:
    // then nothing is due yet, and the timer is set again for the rest.
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(0, at - this.#clock.now()));
  }

  #remove(item: Timed): void {
    const heap = this.#heap;
    const slot = item[kSlot];
    item[kSlot] = -1;
    const last = heap.pop() as Timed;
    if (last === item) return;
    heap[slot] = last;
    last[kSlot] = slot;
    this.#down(slot);
    this.#up(last[kSlot]);
  }

  #up(slot: number): void {
    const heap = this.#heap;
    const item = heap[slot] as Timed;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot] as Timed;
      if (parent[kDeadline] <= item[kDeadline]) break;
      heap[slot] = parent;
      parent[kSlot] = slot;
      slot = parentSlot;
    }
    heap[slot] = item;
    item[kSlot] = slot;
  }

  #down(slot: number): void {
    const heap = this.#heap;
    const item = heap[slot] as Timed;
    const length = heap.length;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && (heap[right] as Timed)[kDeadline] < (heap[child] as Timed)[kDeadline]) {
        child = right;
      }
      const smaller = heap[child] as Timed;
      if (smaller[kDeadline] >= item[kDeadline]) break;
      heap[slot] = smaller;
      smaller[kSlot] = slot;
      slot = child;
    }
    heap[slot] = item;
    item[kSlot] = slot;
  }
}
