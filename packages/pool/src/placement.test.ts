import { describe, expect, it } from 'vitest';
import { Placement } from './placement.ts';

const workers = (...usage: number[]) => usage.map((currentUsage) => ({ currentUsage }));

function placement(
  total: number,
  overrides: Partial<{
    activeThreads: number;
    connectionsPerThread: number;
    onDequeued: () => void;
  }> = {},
) {
  return new Placement({
    activeThreads: 2,
    connectionsPerThread: 4,
    threads: 32,
    totalThreads: () => total,
    ...overrides,
  });
}

describe('Placement.choose', () => {
  it('gives an idle thread the connection first', () => {
    const pool = workers(3, 0, 1);
    expect(placement(3).choose(pool)).toBe(pool[1]);
  });

  it('otherwise picks the least busy thread under the cap', () => {
    const pool = workers(3, 2);
    expect(placement(2).choose(pool)).toBe(pool[1]);
  });

  it('counts what `usage` says a thread holds, not only its tasks under way', () => {
    const pool = [
      { id: 1, currentUsage: 0 },
      { id: 2, currentUsage: 1 },
    ];
    const held = new Map([[1, 4]]);
    const placed = new Placement({
      activeThreads: 2,
      connectionsPerThread: 4,
      threads: 2,
      totalThreads: () => 2,
      usage: (worker) => worker.currentUsage + (held.get(worker.id ?? 0) ?? 0),
    });
    // Thread 1 runs no task but holds 4 connections: thread 2 is the less busy one.
    expect(placed.choose(pool)).toBe(pool[1]);
  });

  it('skips threads that are terminating or destroyed', () => {
    const pool = [
      { currentUsage: 0, terminating: true },
      { currentUsage: 0, destroyed: true },
      { currentUsage: 2 },
    ];
    expect(placement(3).choose(pool)).toBe(pool[2]);
  });

  it('asks for one more thread while below one thread per core', () => {
    expect(placement(1).choose(workers(1))).toBeNull();
  });

  it('does not ask for another thread while one is starting', () => {
    const pool = workers(1);
    expect(placement(2).choose(pool)).toBe(pool[0]);
  });

  it('never grows past the cores while threads have room, whatever `threads` says', () => {
    const pool = workers(3, 3);
    expect(placement(2).choose(pool)).toBe(pool[0]);
  });

  it('grows only when every thread is full', () => {
    expect(placement(2).choose(workers(4, 4))).toBeNull();
  });

  it('loads the least busy full thread while a new one starts, instead of queueing', () => {
    const pool = workers(5, 4);
    expect(placement(3).choose(pool)).toBe(pool[1]);
  });

  it('at the ceiling, overfills the least busy thread rather than make a connection wait', () => {
    const p = new Placement({
      activeThreads: 2,
      connectionsPerThread: 4,
      threads: 2,
      totalThreads: () => 2,
    });
    const pool = workers(6, 5);
    expect(p.choose(pool)).toBe(pool[1]);
  });

  it('returns null when no thread is ready', () => {
    expect(placement(2).choose([])).toBeNull();
  });
});

describe('Placement bookkeeping', () => {
  it('counts a task queued while submitting and releases it when a thread takes it later', () => {
    let dequeued = 0;
    const p = placement(2, { onDequeued: () => (dequeued += 1) });
    p.submitting = true;
    expect(p.choose(workers(4, 4))).toBeNull();
    p.submitting = false;
    expect(p.mustHold).toBe(true);
    // A thread frees up: piscina asks the balancer again for the queued task.
    expect(p.choose(workers(3, 4))).not.toBeNull();
    expect(p.mustHold).toBe(false);
    expect(dequeued).toBe(1);
  });

  it('does not count a failed retry from the queue twice', () => {
    const p = placement(2);
    p.submitting = true;
    p.choose(workers(4, 4));
    p.submitting = false;
    expect(p.choose(workers(4, 4))).toBeNull();
    expect(p.queued).toBe(1);
  });

  it('does not count tasks placed directly', () => {
    const p = placement(2);
    p.submitting = true;
    p.choose(workers(1, 0));
    p.submitting = false;
    expect(p.queued).toBe(0);
  });
});
