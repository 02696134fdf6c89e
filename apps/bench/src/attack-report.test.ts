import { describe, expect, it } from 'vitest';
import {
  type AttackSummary,
  addStats,
  metTargets,
  mib,
  renderAttackSummary,
  renderSoakSummary,
  rssSlope,
} from './attack-report.ts';
import type { AttackStats } from './attackers.ts';
import type { CountedLatency, PhaseFigures } from './probes.ts';

const latency = (p50: number, p99: number, count = 100): CountedLatency => ({
  avg: p50,
  min: p50 / 2,
  p50,
  p95: p99,
  p99,
  max: p99 * 2,
  count,
});
const phase = (p50: number, p99: number, errors: Record<string, number> = {}): PhaseFigures => ({
  rtt: { framed: latency(p50, p99), seed: latency(p50, p99) },
  handshake: { framed: latency(1, 2, 5), seed: latency(30, 31, 5) },
  errors,
});
const stats = (over: Partial<AttackStats> = {}): AttackStats => ({
  kind: 'slow-frame',
  opened: 10,
  failedToOpen: 1,
  cut: 2,
  bytesSent: 1024 * 1024,
  bytesReceived: 0,
  endings: { closed: 2 },
  ...over,
});

describe('rssSlope', () => {
  it('is MiB per minute of a straight line, 0 for flat memory', () => {
    const rising = [0, 30_000, 60_000].map((atMs) => ({ atMs, bytes: (atMs / 60_000) * 2 ** 21 }));
    expect(rssSlope(rising, 0)).toBe(2);
    expect(
      rssSlope(
        [0, 1, 2].map((atMs) => ({ atMs, bytes: 5 })),
        0,
      ),
    ).toBe(0);
  });

  it('only counts samples from the given time, and needs two of them', () => {
    const samples = [
      { atMs: 0, bytes: 0 },
      { atMs: 60_000, bytes: 100 * 2 ** 20 },
      { atMs: 120_000, bytes: 100 * 2 ** 20 },
    ];
    expect(rssSlope(samples, 60_000)).toBe(0);
    expect(rssSlope(samples, 120_000)).toBeNull();
    expect(
      rssSlope(
        [
          { atMs: 5, bytes: 1 },
          { atMs: 5, bytes: 2 },
        ],
        0,
      ),
    ).toBeNull();
  });
});

describe('the summaries', () => {
  it('adds up attack figures of one kind, endings included', () => {
    const total = addStats(stats(), stats({ endings: { closed: 1, 'ERROR IDLE_TIMEOUT': 3 } }));
    expect(total).toMatchObject({ opened: 20, failedToOpen: 2, cut: 4, bytesSent: 2 * 2 ** 20 });
    expect(total.endings).toEqual({ closed: 3, 'ERROR IDLE_TIMEOUT': 3 });
  });

  it('meets the targets only under 5 ms median and 50 ms p99 on both wires, with no errors', () => {
    expect(metTargets(phase(0.2, 3))).toBe(true);
    expect(metTargets(phase(5, 10))).toBe(false);
    expect(metTargets(phase(0.2, 50))).toBe(false);
    expect(metTargets(phase(0.2, 3, { 'framed: RTT_ERR_SERVER_GONE': 1 }))).toBe(false);
    const silent = phase(0.2, 3);
    silent.rtt.seed = latency(0, 0, 0);
    expect(metTargets(silent)).toBe(false);
  });

  it('rounds MiB to one decimal and keeps a missing reading missing', () => {
    expect(mib(1.25 * 2 ** 20)).toBe(1.3);
    expect(mib(undefined)).toBeNull();
  });

  it('prints an attack run with every phase, the RSS and the verdict', () => {
    const summary: AttackSummary = {
      kind: 'slow-frame',
      connections: 10,
      seconds: 5,
      after_seconds: 3,
      probes: { before: phase(0.1, 1), during: phase(7, 80), after: phase(0.1, 1) },
      rss_mib: { before: 120, max: 300.5, after: null },
      log_lines: { during: 50, per_second: 10 },
      attacker: stats(),
      met: false,
    };
    const text = renderAttackSummary(summary);
    expect(text).toContain('attack slow-frame: 10 connections for 5 s');
    expect(text).toContain('p50 7.000  p99 80.000');
    expect(text).toContain('server RSS: before 120.0 MiB, max during 300.5 MiB, 3 s after n/a');
    expect(text).toContain('server log: 50 lines during the attack (10.0/s)');
    expect(text).toContain(
      'slow-frame: 10 opened, 1 failed to open, 2 ended by the server (closed x2)',
    );
    expect(text).toMatch(/NOT met\n$/);
  });

  it('prints a soak run with its slope', () => {
    const text = renderSoakSummary({
      minutes: 0.5,
      rss_mib: { start: 100, end: 110, max: 150, settled: 101 },
      settle_seconds: 60,
      rss_slope_mib_per_min: -0.5,
      probes: phase(0.1, 1, { 'seed: RTT_ERR_SERVER_GONE': 2 }),
      attackers: [stats()],
      log_lines: null,
    });
    expect(text).toContain('RSS slope over the second half: -0.50 MiB/min');
    expect(text).toContain(
      'server RSS: start 100.0 MiB, end of the attacks 110.0 MiB, max 150.0 MiB, 60 s later 101.0 MiB',
    );
    expect(text).toContain('errors                 seed: RTT_ERR_SERVER_GONE x2');
    expect(text).not.toContain('server log');
  });
});
