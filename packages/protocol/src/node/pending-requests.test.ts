import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingRequests } from './pending-requests.ts';

describe('PendingRequests', () => {
  it('hands out ids in sequence and finds each answer once', () => {
    const pending = new PendingRequests<string>();
    const ids: number[] = [];
    let next = 1;
    for (let i = 0; i < 100; i++) {
      const id = pending.nextId(next);
      pending.add(id, i, `request ${id}`);
      ids.push(id);
      next = id + 1;
    }
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(pending.size).toBe(100);
    expect(pending.take(42)).toEqual({ started: 41, value: 'request 42' });
    expect(pending.take(42)).toBeUndefined();
    expect(pending.take(1_000)).toBeUndefined();
    expect(pending.size).toBe(99);
  });

  it('skips the id of a request still waiting when the ids come round again', () => {
    const pending = new PendingRequests<number>();
    pending.add(pending.nextId(1), 0, 1);
    let next = 2;
    // 10,000 requests answered at once while request 1 waits.
    for (let i = 0; i < 10_000; i++) {
      const id = pending.nextId(next);
      pending.add(id, 0, id);
      expect(pending.take(id)?.value).toBe(id);
      next = id + 1;
    }
    expect(pending.size).toBe(1);
    expect(pending.take(1)?.value).toBe(1);
  });

  it('wraps after 2^32 - 1 to 1, never 0', () => {
    const pending = new PendingRequests<string>();
    const last = pending.nextId(0xffff_ffff);
    expect(last).toBe(0xffff_ffff);
    pending.add(last, 0, 'last');
    expect(pending.nextId(last + 1)).toBe(1);
    expect(pending.take(0xffff_ffff)?.value).toBe('last');
  });

  it('clear() returns what was waiting, oldest first, and empties the ring', () => {
    const pending = new PendingRequests<string>();
    for (const id of [3, 1, 2]) pending.add(id, 0, `r${id}`);
    expect(pending.clear()).toEqual(['r1', 'r2', 'r3']);
    expect(pending.size).toBe(0);
    expect(() => pending.add(5, 0, 'x')).not.toThrow();
    expect(() => pending.add(5, 0, 'y')).toThrow(Error);
  });

  it('behaves like a Map for any order of sends and answers (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40 }), { maxLength: 400 }), (script) => {
        const pending = new PendingRequests<number>();
        const model = new Map<number, number>();
        let next = 1;
        for (const step of script) {
          if (step < 25 || model.size === 0) {
            const id = pending.nextId(next);
            expect(model.has(id)).toBe(false);
            pending.add(id, step, id * 2);
            model.set(id, id * 2);
            next = id + 1;
          } else {
            // Answer the request that is `step`-th in the map's order.
            const ids = [...model.keys()];
            const id = ids[step % ids.length] as number;
            expect(pending.take(id)?.value).toBe(model.get(id));
            model.delete(id);
          }
          expect(pending.size).toBe(model.size);
        }
        expect(pending.clear().sort((a, b) => a - b)).toEqual(
          [...model.values()].sort((a, b) => a - b),
        );
      }),
    );
  });
});
