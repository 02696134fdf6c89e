import { requestEvent } from '@rtt/protocol';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  LATENCY_BUCKETS_S,
  requestSlot,
  ThreadMetrics,
  WIRES,
} from './thread-metrics.ts';

const SLOTS = LATENCY_BUCKETS_S.length + 1;

describe('ThreadMetrics', () => {
  it('counts requests by wire, command and outcome, with their latency buckets', () => {
    const metrics = new ThreadMetrics();
    metrics.request(requestEvent('framed', 'TIME', true), 0.005); // 5 µs: first bucket
    metrics.request(requestEvent('framed', 'TIME', true), 0.03); // 30 µs: third (<= 50 µs)
    metrics.request(requestEvent('seed', 'unknown', false), 400); // past 0.25 s: +Inf
    metrics.request(requestEvent('seed', 'DATE', true), Number.NaN); // counted, not timed
    const report = metrics.collect(3);
    expect(report?.requests[requestSlot(0, COMMANDS.indexOf('TIME'), true)]).toBe(2);
    expect(report?.requests[requestSlot(1, COMMANDS.indexOf('unknown'), false)]).toBe(1);
    expect(report?.requests[requestSlot(1, COMMANDS.indexOf('DATE'), true)]).toBe(1);
    expect(report?.requests.reduce((a, b) => a + b)).toBe(4);
    expect(report?.latencyCounts.slice(0, SLOTS)).toEqual([
      1,
      0,
      1,
      ...new Array(SLOTS - 3).fill(0),
    ]);
    expect(report?.latencyCounts.slice(SLOTS)).toEqual([...new Array(SLOTS - 1).fill(0), 1]);
    expect(report?.latencySums[0]).toBeCloseTo(0.000035, 9);
    expect(report?.latencySums[1]).toBeCloseTo(0.4, 9);
    expect(report?.sessions).toBe(3);
  });

  it('reports changes once, and nothing while nothing changes', () => {
    const metrics = new ThreadMetrics();
    expect(metrics.collect(0)).toBeDefined(); // the first level is news
    expect(metrics.collect(0)).toBeUndefined();
    metrics.refused('RTT_ERR_BAD_HELLO', true);
    metrics.refused('RTT_ERR_BAD_HELLO', true);
    metrics.refused('RTT_ERR_IDLE_TIMEOUT', false);
    metrics.proxyFailure('timeout');
    expect(metrics.collect(0)).toMatchObject({
      handshakeFailures: { 'bad-hello': 2 },
      sessionErrors: { 'idle-timeout': 1 },
      proxyFailures: { timeout: 1 },
    });
    expect(metrics.collect(0)).toBeUndefined();
    expect(metrics.collect(5)).toMatchObject({ sessions: 5, handshakeFailures: {} });
  });

  it('gives every wire, command and outcome its own slot', () => {
    const slots = new Set<number>();
    WIRES.forEach((_, w) => {
      COMMANDS.forEach((_, c) => {
        slots.add(requestSlot(w, c, true));
        slots.add(requestSlot(w, c, false));
      });
    });
    expect(slots.size).toBe(WIRES.length * COMMANDS.length * 2);
    expect(Math.max(...slots)).toBe(slots.size - 1);
  });
});
