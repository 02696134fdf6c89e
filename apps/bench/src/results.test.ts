import { describe, expect, it } from 'vitest';
import {
  formatResultsFile,
  markdownTable,
  type ResultsFile,
  type RunRecord,
  summarize,
} from './results.ts';
import { median, ratio } from './statistics.ts';

const run = (target: string, round: number, rps: number, p50: number): RunRecord => ({
  case: 'c50',
  target,
  round,
  connections: 50,
  pipeline: 1,
  wire: 'framed',
  command: 'PING',
  requests: rps * 2,
  seconds: 2,
  rps,
  errors: 0,
  latency_ms: { avg: p50, min: p50 / 2, p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 10 },
  server_cpu_us_per_request: 10 + round,
});

describe('median and ratio', () => {
  it('take the middle, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(ratio(95, 100)).toBe(0.95);
    expect(ratio(1, 0)).toBeNaN();
  });
});

describe('summarize', () => {
  it('gives per-server medians over the rounds', () => {
    const summary = summarize([
      run('t32', 1, 90, 0.5),
      run('baseline', 1, 100, 0.4),
      run('t32', 2, 70, 0.7),
      run('baseline', 2, 95, 0.45),
      run('t32', 3, 80, 0.6),
      run('baseline', 3, 200, 0.3),
    ]);
    expect(summary.map((s) => s.target)).toEqual(['t32', 'baseline']);
    expect(summary[0]).toMatchObject({ runs: 3, rps: 80, server_cpu_us_per_request: 12 });
    expect(summary[0]?.latency_ms.p50).toBe(0.6);
    expect(summary[1]).toMatchObject({ rps: 100 });
    expect(summary[1]?.latency_ms.p99).toBeCloseTo(1.2);
  });
});

describe('markdownTable', () => {
  it('writes a header, a rule and one line per row', () => {
    expect(markdownTable(['a', 'b'], [[1, 'x']])).toBe('| a | b |\n| --- | --- |\n| 1 | x |\n');
  });
});

describe('formatResultsFile', () => {
  it('writes valid JSON, short objects on one line and long ones expanded', () => {
    const runs = [run('t32', 1, 90, 0.5), run('baseline', 1, 100, 0.4)];
    const results: ResultsFile = {
      generated: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 2, model: 'cpu', node: 'v26.10.0', platform: 'linux' },
      settings: { runs: 1, duration_s: 2, warmup: 0, load_threads: 1 },
      targets: { t32: 'server', baseline: 'baseline' },
      idle: [],
      runs,
      summary: summarize(runs),
      hold: [],
    };
    const text = formatResultsFile(results);
    expect(JSON.parse(text)).toEqual(results);
    expect(text).toContain(
      '\n  "settings": { "runs": 1, "duration_s": 2, "warmup": 0, "load_threads": 1 },\n',
    );
    expect(text).toContain('\n      "round": 1,\n');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
});
