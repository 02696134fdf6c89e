/** Time and timers for {@link LineBudget} and {@link EverySecond}; tests pass a fake one. */
export interface RateClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. Its timers do not keep a thread alive: a summary is not worth waiting for. */
export const systemRateClock: RateClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const WINDOW_MS = 1_000;
const numbers = new Intl.NumberFormat('en-US');

/**
 * A count as the logs write it: `1,234`.
 *
 * @example
 * formatCount(22770); // '22,770'
 */
export function formatCount(count: number): string {
  return numbers.format(count);
}

/** What a {@link LineBudget} held back in one second, by kind, in the order first seen. */
export type Suppressed = ReadonlyMap<string, number>;

/** Options of {@link LineBudget}. */
export interface LineBudgetOptions {
  /** Lines of each kind written per second before the rest are only counted; default 50. */
  perSecond?: number;
  clock?: RateClock;
  /** Called once a second while lines are held back, with their counts. */
  report: (suppressed: Suppressed) => void;
}

/**
 * Keeps per-connection log lines readable under load: each kind of line (`connections
 * opened`, `connections closed`...) is written as usual up to `perSecond` a second; past that
 * the lines are counted, and one summary a second takes their place. Why: a flood of 7,590
 * bad connections a second wrote 22,770 lines a second, which no one reads and which cost
 * the server more than the connections did.
 *
 * @example
 * const budget = new LineBudget({ report: (held) => log.warning(summaryLine(held)) });
 * if (budget.allow('connections opened')) log.info(`Connection open from ...`);
 */
export class LineBudget {
  readonly #perSecond: number;
  readonly #clock: RateClock;
  readonly #report: (suppressed: Suppressed) => void;
  readonly #written = new Map<string, number>();
  #suppressed = new Map<string, number>();
  #windowStart = Number.NEGATIVE_INFINITY;
  #timer: unknown;

  constructor({ perSecond = 50, clock = systemRateClock, report }: LineBudgetOptions) {
    this.#perSecond = perSecond;
    this.#clock = clock;
    this.#report = report;
  }

  /**
   * Whether a line of this kind may be written now; if not, it is counted for the summary.
   *
   * @example
   * if (budget.allow('connections closed')) log.warning('Connection closed with ...');
   */
  allow(kind: string): boolean {
    const now = this.#clock.now();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#windowStart = now;
      this.#written.clear();
    }
    const written = this.#written.get(kind) ?? 0;
    if (written < this.#perSecond) {
      this.#written.set(kind, written + 1);
      return true;
    }
    this.#suppressed.set(kind, (this.#suppressed.get(kind) ?? 0) + 1);
    this.#timer ??= this.#clock.setTimeout(
      () => this.#flush(),
      Math.max(0, this.#windowStart + WINDOW_MS - now),
    );
    return false;
  }

  /**
   * Reports what is held back now rather than at the end of the second (before exiting).
   *
   * @example
   * budget.flush();
   */
  flush(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#flush();
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#suppressed.size === 0) return;
    const suppressed = this.#suppressed;
    this.#suppressed = new Map();
    this.#report(suppressed);
  }
}

/**
 * The summary line for what a {@link LineBudget} held back.
 *
 * @example
 * summaryLine(new Map([['connections opened', 1234], ['connections closed', 1230]]));
 * // '1,234 more connections opened, 1,230 more connections closed in the last second'
 */
export function summaryLine(suppressed: Suppressed): string {
  const parts = [...suppressed].map(([kind, count]) => `${formatCount(count)} more ${kind}`);
  return `${parts.join(', ')} in the last second`;
}

/**
 * Counts events and reports them at most once a second, for conditions that last (refusing
 * connections, running out of file descriptors): the first event starts a second, and at its
 * end `report` gets the count; a quiet second reports nothing.
 *
 * @example
 * const refusing = new EverySecond((count) => log.warning(`Refusing connections: ${count} refused in the last second`));
 * refusing.count();
 */
export class EverySecond {
  readonly #report: (count: number) => void;
  readonly #clock: RateClock;
  #count = 0;
  #timer: unknown;

  constructor(report: (count: number) => void, clock: RateClock = systemRateClock) {
    this.#report = report;
    this.#clock = clock;
  }

  /** Counts one event (or `n`). */
  count(n = 1): void {
    this.#count += n;
    this.#timer ??= this.#clock.setTimeout(() => this.#flush(), WINDOW_MS);
  }

  /** Reports what is counted now (before exiting). */
  flush(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#flush();
  }

  #flush(): void {
    this.#timer = undefined;
    const count = this.#count;
    this.#count = 0;
    if (count > 0) this.#report(count);
  }
}
