import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_RECLAIM,
  type GcFunction,
  type MemoryReclaim,
  ReclaimPolicy,
  type ReclaimPolicyOptions,
  reclaimUnavailable,
  startMemoryReclaim,
} from './reclaim.ts';

const MIB = 1024 * 1024;
const OPTIONS: ReclaimPolicyOptions = { ...DEFAULT_RECLAIM, intervalMs: 1_000 };

/**
 * Feeds a policy one look a second, each allocating `steps[i]` bytes, after a first look at
 * `start` bytes; the steps it fired on. Each collection gives back `gain(i)` bytes.
 */
function run(
  steps: readonly number[],
  { start = 0, gain = () => 64 * MIB }: { start?: number; gain?: (i: number) => number } = {},
): number[] {
  const policy = new ReclaimPolicy(OPTIONS);
  let allocated = start;
  policy.look({ allocated, at: 0 });
  const fired: number[] = [];
  steps.forEach((bytes, i) => {
    allocated += bytes;
    if (policy.look({ allocated, at: (i + 1) * 1_000 })) {
      fired.push(i);
      policy.collected(100 * MIB, 100 * MIB - gain(i), { allocated, at: (i + 1) * 1_000 });
    }
  });
  return fired;
}

describe('ReclaimPolicy', () => {
  it('gives memory back once a thread that worked has been quiet for three looks', () => {
    expect(run([20 * MIB, 10 * MIB, 0, 1_000, 0, 0, 0, 0])).toEqual([4]);
  });

  it('counts a load far below the busiest since as quiet: a few clients after a burst', () => {
    // 24 MiB a second, then 1 MiB a second: under an eighth of the busiest.
    expect(run([24 * MIB, 24 * MIB, MIB, MIB, MIB, MIB, MIB, MIB, MIB, MIB])).toEqual([4]);
  });

  it('never fires under a steady load, however long, nor on quiet looks alone', () => {
    expect(run(Array(100).fill(MIB))).toEqual([]);
    expect(run(Array(20).fill(0))).toEqual([]);
    expect(run([4 * MIB, 0, 0, 0, 0, 0])).toEqual([]);
  });

  it('forgets the busiest look once it has fired: the same light load is not quiet after', () => {
    expect(run([32 * MIB, MIB, MIB, MIB, ...Array(50).fill(MIB)])).toEqual([3]);
  });

  it('counts start-up allocation as work, not as a pace a load must fall under', () => {
    // 300 MiB before the first look: a steady 2 MiB a second after it is not quiet.
    expect(run(Array(30).fill(2 * MIB), { start: 300 * MIB })).toEqual([]);
    // Quiet after start-up: fires once, at the third quiet look.
    expect(run([0, 0, 0, 0, 0], { start: 30 * MIB })).toEqual([2]);
  });

  it('starts counting quiet looks again after a busy one', () => {
    expect(run([9 * MIB, 0, 0, 2 * MIB, 0, 0, 0])).toEqual([6]);
  });

  it('does not count what happened during a collection as work', () => {
    const policy = new ReclaimPolicy(OPTIONS);
    policy.look({ allocated: 0, at: 0 });
    policy.look({ allocated: 20 * MIB, at: 1_000 });
    expect([2, 3, 4].map((s) => policy.look({ allocated: 20 * MIB, at: s * 1_000 }))).toEqual([
      false,
      false,
      true,
    ]);
    // The collection's own cost (CPU time standing for allocation) is left out.
    policy.collected(100 * MIB, 50 * MIB, { allocated: 30 * MIB, at: 4_100 });
    const after = [5, 6, 7, 8, 9, 10].map((s) =>
      policy.look({ allocated: 30 * MIB, at: s * 1_000 }),
    );
    expect(after.every((fired) => !fired)).toBe(true);
  });

  it('reads a late look as a pace, not a burst', () => {
    const policy = new ReclaimPolicy(OPTIONS);
    policy.look({ allocated: 0, at: 0 });
    // 40 MiB over 20 s of a blocked event loop is 2 MiB a second: not a busiest of 40.
    policy.look({ allocated: 40 * MIB, at: 20_000 });
    const looks = [1, 2, 3, 4].map((i) =>
      policy.look({ allocated: 40 * MIB + i * MIB, at: 20_000 + i * 1_000 }),
    );
    expect(looks).toEqual([false, false, false, false]);
  });

  it('waits longer after each collection that gave back little: a burst every 5 s', () => {
    const cycle = [40 * MIB, 0, 0, 0, 0];
    const steps = Array.from({ length: 60 }, () => cycle).flat();
    const worthless = run(steps, { gain: () => MIB });
    const worth = run(steps, { gain: () => 64 * MIB });
    expect(worth).toHaveLength(60);
    // Waits of 8, 16, 32, 64 and 128 looks between collections.
    expect(worthless.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < worthless.length; i++) {
      expect((worthless[i] ?? 0) - (worthless[i - 1] ?? 0)).toBeGreaterThan(8);
    }
  });

  it('fires only after quietLooks quiet looks, and at most once per workBytes allocated', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40 * MIB }), { maxLength: 200 }), (steps) => {
        const fired = run(steps);
        let previous = -1;
        for (const i of fired) {
          const window = steps.slice(previous + 1, i + 1);
          expect(window.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(OPTIONS.workBytes);
          // Each of the last quietLooks looks was under the quiet bound of its moment.
          const busiest = Math.max(...window);
          for (let j = i - OPTIONS.quietLooks + 1; j <= i; j++) {
            expect(steps[j]).toBeLessThan(
              Math.max(OPTIONS.quietBytes, busiest * OPTIONS.calmFraction),
            );
          }
          previous = i;
        }
      }),
    );
  });
});

describe('startMemoryReclaim', () => {
  let reclaim: MemoryReclaim | undefined;
  afterEach(() => {
    reclaim?.stop();
    reclaim = undefined;
    vi.useRealTimers();
  });

  it("starts nothing without V8's collector, and says why", () => {
    const saved = (globalThis as { gc?: unknown }).gc;
    (globalThis as { gc?: unknown }).gc = undefined;
    try {
      expect(startMemoryReclaim()).toBeUndefined();
      expect(reclaimUnavailable()).toMatch(/--expose-gc/);
    } finally {
      (globalThis as { gc?: unknown }).gc = saved;
    }
  });

  it('calls the collector once the thread goes quiet after start-up, and reports what it gave back', async () => {
    vi.useFakeTimers();
    // A thread that allocated 30 MiB starting, then nothing; the collection halves its heap.
    let committed = 40 * MIB;
    const gc = vi.fn<GcFunction>(() => {
      committed = 20 * MIB;
    });
    const heap = () => ({ allocated: 30 * MIB, committed });
    const onReclaimed = vi.fn();
    reclaim = startMemoryReclaim({ gc, heap, onReclaimed });
    expect(reclaim).toBeDefined();
    // Once per thread.
    expect(startMemoryReclaim({ gc, heap })).toBe(reclaim);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(gc).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(gc).toHaveBeenCalledTimes(1);
    expect(gc).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(onReclaimed).toHaveBeenCalledWith({
      before: 40 * MIB,
      after: 20 * MIB,
      pauseMs: expect.any(Number),
    });
    // Nothing allocated since: no second collection, however long it stays quiet.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(gc).toHaveBeenCalledTimes(1);
  });
});
