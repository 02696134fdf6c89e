import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type GcFunction,
  type MemoryReclaim,
  ReclaimPolicy,
  type ReclaimPolicyOptions,
  startMemoryReclaim,
} from './reclaim.ts';

const MIB = 1024 * 1024;
const OPTIONS: ReclaimPolicyOptions = {
  quietBytes: MIB / 4,
  calmFraction: 1 / 8,
  quietLooks: 3,
  workBytes: 8 * MIB,
};

/** Feeds the policy one look per step, each allocating `steps[i]` bytes; the looks it fired on. */
function run(steps: readonly number[], options = OPTIONS, start = 0): number[] {
  const policy = new ReclaimPolicy(options);
  let allocated = start;
  policy.look({ allocated });
  const fired: number[] = [];
  steps.forEach((bytes, i) => {
    allocated += bytes;
    if (policy.look({ allocated })) fired.push(i);
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
    const steps = [32 * MIB, MIB, MIB, MIB, ...Array(50).fill(MIB)];
    expect(run(steps)).toEqual([3]);
  });

  it('counts the allocation before its first look as work (start-up garbage)', () => {
    const policy = new ReclaimPolicy(OPTIONS);
    expect(policy.look({ allocated: 30 * MIB })).toBe(false);
    expect([0, 0, 0].map(() => policy.look({ allocated: 30 * MIB }))).toEqual([false, false, true]);
  });

  it('starts counting quiet looks again after a busy one', () => {
    expect(run([9 * MIB, 0, 0, 2 * MIB, 0, 0, 0])).toEqual([6]);
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

  it('starts nothing without V8 collector', () => {
    const saved = (globalThis as { gc?: unknown }).gc;
    (globalThis as { gc?: unknown }).gc = undefined;
    try {
      expect(startMemoryReclaim()).toBeUndefined();
    } finally {
      (globalThis as { gc?: unknown }).gc = saved;
    }
  });

  it('calls the collector once the thread goes quiet after start-up, and reports the heap', async () => {
    vi.useFakeTimers();
    const gc = vi.fn<GcFunction>();
    const onReclaimed = vi.fn();
    reclaim = startMemoryReclaim({ gc, onReclaimed });
    expect(reclaim).toBeDefined();
    // Once per thread.
    expect(startMemoryReclaim({ gc })).toBe(reclaim);
    // Loading vitest and this file allocated far more than the work threshold; the test
    // allocates next to nothing while the fake clock moves.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(gc).toHaveBeenCalledWith({ type: 'major', execution: 'async', flavor: 'last-resort' });
    expect(onReclaimed).toHaveBeenCalledWith({
      before: expect.any(Number),
      after: expect.any(Number),
    });
  });
});
