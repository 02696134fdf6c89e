import { describe, expect, it } from 'vitest';
import {
  EverySecond,
  formatCount,
  LineBudget,
  type RateClock,
  type Suppressed,
  summaryLine,
} from './rate-limit.ts';

/** A clock that moves only when told, with timers that fire as it passes them. */
function fakeClock(): RateClock & { advance(ms: number): void } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout: (callback, ms) => {
      next += 1;
      timers.set(next, { at: now + ms, callback });
      return next;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.callback();
      }
    },
  };
}

describe('LineBudget', () => {
  it('lets each kind through up to its budget a second, then sums up the rest once, at the end of the second', () => {
    const clock = fakeClock();
    const reports: Suppressed[] = [];
    const budget = new LineBudget({ perSecond: 3, clock, report: (held) => reports.push(held) });
    const opened = Array.from({ length: 10 }, () => budget.allow('connections opened'));
    const closed = Array.from({ length: 5 }, () => budget.allow('connections closed'));
    expect(opened.filter(Boolean)).toHaveLength(3);
    expect(closed.filter(Boolean)).toHaveLength(3);
    expect(reports).toEqual([]);
    clock.advance(999);
    expect(reports).toEqual([]);
    clock.advance(1);
    expect(reports).toEqual([
      new Map([
        ['connections opened', 7],
        ['connections closed', 2],
      ]),
    ]);
    // A new second: the budget is whole again, and nothing is left to report.
    expect(budget.allow('connections opened')).toBe(true);
    clock.advance(5_000);
    expect(reports).toHaveLength(1);
  });

  it('writes every line in ordinary use, and reports nothing', () => {
    const clock = fakeClock();
    const reports: Suppressed[] = [];
    const budget = new LineBudget({ clock, report: (held) => reports.push(held) });
    for (let second = 0; second < 5; second += 1) {
      for (let i = 0; i < 50; i += 1) expect(budget.allow('connections opened')).toBe(true);
      clock.advance(1_000);
    }
    expect(reports).toEqual([]);
  });

  it('reports what it holds at once on flush', () => {
    const clock = fakeClock();
    const reports: Suppressed[] = [];
    const budget = new LineBudget({ perSecond: 0, clock, report: (held) => reports.push(held) });
    budget.allow('bad clients closed');
    budget.flush();
    expect(reports).toEqual([new Map([['bad clients closed', 1]])]);
    clock.advance(2_000);
    expect(reports).toHaveLength(1);
  });
});

describe('summaryLine and formatCount', () => {
  it('write the counts as the logs do', () => {
    expect(formatCount(22770)).toBe('22,770');
    expect(
      summaryLine(
        new Map([
          ['connections opened', 1234],
          ['connections closed', 1230],
        ]),
      ),
    ).toBe('1,234 more connections opened, 1,230 more connections closed in the last second');
  });
});

describe('EverySecond', () => {
  it('reports a count at most once a second, and nothing for a quiet second', () => {
    const clock = fakeClock();
    const reports: number[] = [];
    const refusing = new EverySecond((count) => reports.push(count), clock);
    for (let i = 0; i < 1234; i += 1) refusing.count();
    clock.advance(500);
    refusing.count(6);
    expect(reports).toEqual([]);
    clock.advance(500);
    expect(reports).toEqual([1240]);
    clock.advance(3_000);
    expect(reports).toEqual([1240]);
    refusing.count();
    refusing.flush();
    expect(reports).toEqual([1240, 1]);
  });
});
