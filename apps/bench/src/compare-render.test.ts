import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kib, mib, ms, progressLine, renderTables, times, verdicts } from './compare-render.ts';
import type { CaseSummary, HoldRecord, ResultsFile, RunRecord } from './results.ts';

// The committed results file: the tables must show its figures, whatever run wrote it, so the
// expectations below are read from it rather than copied into the test.
const latest = JSON.parse(
  readFileSync(new URL('../results/latest.json', import.meta.url), 'utf8'),
) as ResultsFile;

/** The sections of a rendered report, by heading, each as rows of cells (header first). */
function sections(markdown: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  for (const part of markdown.split(/^### /m).slice(1)) {
    const [heading = '', ...lines] = part.split('\n');
    const rows = lines
      .filter((line) => line.startsWith('| '))
      .map((line) => line.slice(2, -2).split(' | '));
    out.set(
      heading,
      rows.filter((_, i) => i !== 1),
    ); // without the `| --- |` rule
  }
  return out;
}

function table(markdown: string, heading: string): string[][] {
  const rows = sections(markdown).get(heading);
  if (rows === undefined) throw new Error(`no section ${heading}`);
  return rows;
}

/** The number in a `0.97x` cell; ratios are rounded to two decimals. */
function expectRatio(cell: string | undefined, a: number, b: number): void {
  expect(cell).toMatch(/^\d+\.\d\dx$/);
  expect(Math.abs(Number.parseFloat(cell as string) - a / b)).toBeLessThanOrEqual(0.005 + 1e-9);
}

const summaryOf = (latestCase: string, target: string) => {
  const found = latest.summary.find((s) => s.case === latestCase && s.target === target);
  if (found === undefined) throw new Error(`latest.json has no ${latestCase} on ${target}`);
  return found;
};

describe('renderTables on results/latest.json', () => {
  const markdown = renderTables(latest);

  it('has every section, in order, laid out as compare prints it', () => {
    expect([...sections(markdown).keys()]).toEqual([
      'Pool threads at 50 busy connections (PING)',
      'Real server (default -t 32) against the baseline',
      'Seed wire against the framed protocol (server, 50 connections, TIME)',
      `Idle servers (${latest.idle[0]?.seconds} s, no clients)`,
      'Connections held open at once, then one request each',
      'Targets',
    ]);
    expect(
      markdown.startsWith('### Pool threads at 50 busy connections (PING)\n\n| server |'),
    ).toBe(true);
    // Each later section follows a blank line; the report ends with its last table's newline.
    expect(markdown.match(/\n\n\n### /g)).toHaveLength(5);
    expect(markdown.endsWith(' |\n')).toBe(true);
  });

  it('lists every server at 50 connections with its median and its share of the best', () => {
    const [header, ...rows] = table(markdown, 'Pool threads at 50 busy connections (PING)');
    expect(header).toEqual([
      'server',
      'req/s (median)',
      'vs best',
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
    ]);
    const pool = latest.summary.filter((s) => s.case === 'c50');
    const best = Math.max(...pool.map((s) => s.rps));
    expect(rows).toHaveLength(pool.length);
    pool.forEach((s, i) => {
      const row = rows[i] ?? [];
      expect(row[0]).toBe(latest.targets[s.target]);
      expect(row[1]).toBe(String(s.rps));
      expectRatio(row[2], s.rps, best);
      expect(row[3]).toBe(s.latency_ms.p50.toFixed(3));
      expect(row[4]).toBe(s.latency_ms.p99.toFixed(3));
      expect(row[5]).toBe(String(s.server_cpu_us_per_request));
    });
    expect(rows.filter((row) => row[2] === '1.00x').length).toBeGreaterThanOrEqual(1);
  });

  it('puts the real server beside the baseline for every load both ran', () => {
    const [header, ...rows] = table(markdown, 'Real server (default -t 32) against the baseline');
    expect(header?.[0]).toBe('load');
    expect(rows.map((row) => row[0])).toEqual([
      '1 connection',
      '10 connections',
      '50 connections',
      '200 connections',
      '1000 connections',
      '50 connections, pipeline 16',
      '50 connections, TIME',
    ]);
    const ids = ['c1', 'c10', 'c50', 'c200', 'c1000', 'p16', 'time50'];
    ids.forEach((id, i) => {
      const real = summaryOf(id, 't32');
      const base = summaryOf(id, 'baseline');
      const row = rows[i] ?? [];
      expect(row[1]).toBe(String(real.rps));
      expect(row[2]).toBe(String(base.rps));
      expectRatio(row[3], real.rps, base.rps);
      expect(row[4]).toBe(`${real.latency_ms.p50.toFixed(3)} / ${base.latency_ms.p50.toFixed(3)}`);
      expectRatio(row[5], real.latency_ms.p50, base.latency_ms.p50);
      expect(row[6]).toBe(`${real.latency_ms.p99.toFixed(3)} / ${base.latency_ms.p99.toFixed(3)}`);
      expect(row[7]).toBe(`${real.server_cpu_us_per_request} / ${base.server_cpu_us_per_request}`);
    });
  });

  it('compares the seed wire with the framed protocol under the same load', () => {
    const rows = table(
      markdown,
      'Seed wire against the framed protocol (server, 50 connections, TIME)',
    );
    const framed = summaryOf('time50', 't32');
    const seed = summaryOf('seed50', 't32');
    expect(rows).toEqual([
      ['wire', 'req/s', 'p50 ms', 'p99 ms'],
      [
        'framed',
        String(framed.rps),
        framed.latency_ms.p50.toFixed(3),
        framed.latency_ms.p99.toFixed(3),
      ],
      ['seed', String(seed.rps), seed.latency_ms.p50.toFixed(3), seed.latency_ms.p99.toFixed(3)],
    ]);
  });

  it('shows the idle and hold figures in MiB and KiB', () => {
    const idle = table(markdown, `Idle servers (${latest.idle[0]?.seconds} s, no clients)`);
    expect(idle.slice(1)).toEqual(
      latest.idle.map((i) => [
        latest.targets[i.target],
        String(i.cpu_percent),
        `${((i.rss_bytes as number) / 1048576).toFixed(1)} MiB`,
        String(i.threads),
      ]),
    );
    const hold = table(markdown, 'Connections held open at once, then one request each');
    expect(hold).toHaveLength(latest.hold.length + 1);
    latest.hold.forEach((h, i) => {
      const row = hold[i + 1] ?? [];
      expect(row.slice(0, 4)).toEqual([
        latest.targets[h.target],
        `${h.held} of ${h.count}`,
        String(h.answered),
        String(h.connect_seconds),
      ]);
      expect(row[4]).toBe(
        [h.latency_ms.p50, h.latency_ms.p99, h.latency_ms.max].map((v) => v.toFixed(3)).join(' / '),
      );
      expect(row[7]).toBe(`${((h.bytes_per_connection as number) / 1024).toFixed(1)} KiB`);
      expect(row[9]).toBe(String(h.threads_held));
      expect(row[11]).toBe(kib(h.bytes_per_connection_settled));
    });
  });

  it('ends with the verdicts, each consistent with its figure', () => {
    const [header, ...rows] = table(markdown, 'Targets');
    expect(header).toEqual(['target', 'figure', 'result']);
    expect(rows).toEqual(verdicts(latest));
    const byTarget = new Map(
      rows.map(([target = '', figure = '', result = '']) => [target, { figure, result }]),
    );

    const idle = byTarget.get('idle default server < 1% of a core');
    const idleCpu = latest.idle.find((i) => i.target === 't32')?.cpu_percent as number;
    expect(idle).toEqual({ figure: `${idleCpu}%`, result: idleCpu < 1 ? 'met' : 'missed' });

    const c50 = summaryOf('c50', 't32');
    const base50 = summaryOf('c50', 'baseline');
    const vsBaseline = byTarget.get('throughput at 50 connections >= 0.9x baseline');
    expectRatio(vsBaseline?.figure, c50.rps, base50.rps);
    expect(vsBaseline?.result).toBe(
      Number.parseFloat(vsBaseline?.figure ?? '') >= 0.9 ? 'met' : 'missed',
    );

    const pool = latest.summary.filter((s) => s.case === 'c50' && s.target !== 'baseline');
    const best = pool.reduce((a, b) => (b.rps > a.rps ? b : a));
    const poolRow = byTarget.get(
      `-t 32 within 10% of the best -t (${latest.targets[best.target]})`,
    );
    expectRatio(poolRow?.figure, c50.rps, best.rps);

    const real1 = summaryOf('c1', 't32');
    const base1 = summaryOf('c1', 'baseline');
    const rtt = byTarget.get('median RTT at 1 connection <= 1.1x baseline');
    expect(rtt?.figure).toMatch(
      ` (${real1.latency_ms.p50.toFixed(3)} vs ${base1.latency_ms.p50.toFixed(3)} ms)`,
    );
    expectRatio(rtt?.figure.split(' ')[0], real1.latency_ms.p50, base1.latency_ms.p50);
    expect(rtt?.result).toBe(Number.parseFloat(rtt?.figure ?? '') <= 1.1 ? 'met' : 'missed');

    const hold = latest.hold.find((h) => h.target === 't32') as HoldRecord;
    expect(byTarget.get(`${hold.count} clients at once, all answered`)).toEqual({
      figure: `${hold.answered} of ${hold.count}`,
      result: hold.answered === hold.count ? 'met' : 'missed',
    });
    expect(rows).toHaveLength(5);
  });
});

// Hand-made figures, for the thresholds and the gaps a real run rarely shows.
const latency = (p50: number) => ({
  avg: p50,
  min: p50 / 2,
  p50,
  p95: p50 * 2,
  p99: p50 * 3,
  max: p50 * 9,
});
const summary = (id: string, target: string, rps: number, p50 = 0.5): CaseSummary => ({
  case: id,
  target,
  connections: 50,
  pipeline: 1,
  wire: 'framed',
  command: 'PING',
  runs: 3,
  rps,
  latency_ms: latency(p50),
  server_cpu_us_per_request: null,
  errors: 0,
});
const results = (parts: Partial<ResultsFile>): ResultsFile => ({
  generated: '2026-01-01T00:00:00.000Z',
  machine: { cpus: 2, model: 'cpu', node: 'v26.10.0', platform: 'linux' },
  settings: { runs: 3, duration_s: 2, warmup: 0, load_threads: 1 },
  targets: { t32: 'server, default -t 32', t4: 'server -t 4', baseline: 'baseline' },
  idle: [],
  runs: [],
  summary: [],
  hold: [],
  ...parts,
});
const held = (count: number, answered: number): HoldRecord => ({
  target: 't32',
  count,
  held: count,
  answered,
  errors: count - answered,
  connect_seconds: 1,
  answer_seconds: 0.2,
  latency_ms: latency(100),
  failures: {},
  rss_before_bytes: null,
  rss_held_bytes: null,
  rss_after_bytes: null,
  bytes_per_connection: null,
  threads_held: null,
});

describe('verdicts', () => {
  it('meets each target at its bound and misses it just past', () => {
    expect(
      verdicts(
        results({
          idle: [{ target: 't32', seconds: 10, cpu_percent: 0.9, rss_bytes: 1, threads: 8 }],
          summary: [
            summary('c50', 't32', 90),
            summary('c50', 't4', 100),
            summary('c50', 'baseline', 100),
            summary('c1', 't32', 10, 0.11),
            summary('c1', 'baseline', 10, 0.1),
          ],
          hold: [held(100, 100)],
        }),
      ),
    ).toEqual([
      ['idle default server < 1% of a core', '0.9%', 'met'],
      ['-t 32 within 10% of the best -t (server -t 4)', '0.90x', 'met'],
      ['throughput at 50 connections >= 0.9x baseline', '0.90x', 'met'],
      ['median RTT at 1 connection <= 1.1x baseline', '1.10x (0.110 vs 0.100 ms)', 'met'],
      ['100 clients at once, all answered', '100 of 100', 'met'],
    ]);
    expect(
      verdicts(
        results({
          idle: [{ target: 't32', seconds: 10, cpu_percent: 1, rss_bytes: 1, threads: 8 }],
          summary: [
            summary('c50', 't32', 89),
            summary('c50', 't4', 100),
            summary('c50', 'baseline', 100),
            summary('c1', 't32', 10, 0.111),
            summary('c1', 'baseline', 10, 0.1),
          ],
          hold: [held(100, 99)],
        }),
      ).map((row) => row.slice(1)),
    ).toEqual([
      ['1%', 'missed'],
      ['0.89x', 'missed'],
      ['0.89x', 'missed'],
      ['1.11x (0.111 vs 0.100 ms)', 'missed'],
      ['99 of 100', 'missed'],
    ]);
  });

  it('leaves out what was not measured', () => {
    expect(verdicts(results({}))).toEqual([]);
    // Idle CPU unreadable (not Linux); no other pool size to compare -t 32 with.
    expect(
      verdicts(
        results({
          idle: [{ target: 't32', seconds: 10, cpu_percent: null, rss_bytes: null, threads: null }],
          summary: [summary('c50', 't32', 90), summary('c50', 'baseline', 100)],
        }),
      ).map((row) => row[0]),
    ).toEqual(['throughput at 50 connections >= 0.9x baseline']);
  });
});

describe('the hold table', () => {
  it('shows the held connections once idle, when the run read them', () => {
    const record: HoldRecord = {
      ...held(10_000, 10_000),
      rss_before_bytes: 100 * 2 ** 20,
      rss_held_bytes: 160 * 2 ** 20,
      bytes_per_connection: 6_291,
      rss_settled_bytes: 130 * 2 ** 20,
      bytes_per_connection_settled: 3_146,
    };
    const rows = table(
      renderTables(results({ hold: [record] })),
      'Connections held open at once, then one request each',
    );
    expect(rows[0]?.slice(10)).toEqual(['RSS holding, 5 s idle', 'per connection, 5 s idle']);
    expect(rows[1]?.slice(5, 8)).toEqual(['100.0 MiB', '160.0 MiB', '6.1 KiB']);
    expect(rows[1]?.slice(10)).toEqual(['130.0 MiB', '3.1 KiB']);
  });
});

describe('renderTables on a partial run', () => {
  it('prints only the sections it has figures for, and n/a for what could not be read', () => {
    const markdown = renderTables(
      results({
        summary: [summary('c1', 't32', 120, 0.08), summary('c1', 'baseline', 100, 0.1)],
        idle: [{ target: 't32', seconds: 1, cpu_percent: null, rss_bytes: null, threads: null }],
        hold: [held(20, 20)],
      }),
    );
    expect([...sections(markdown).keys()]).toEqual([
      'Real server (default -t 32) against the baseline',
      'Idle servers (1 s, no clients)',
      'Connections held open at once, then one request each',
      'Targets',
    ]);
    expect(markdown).toContain(
      '\n| 1 connection | 120 | 100 | 1.20x | 0.080 / 0.100 | 0.80x | 0.240 / 0.300 | n/a / n/a |\n',
    );
    expect(markdown).toContain('\n| server, default -t 32 | n/a | n/a | n/a |\n');
    expect(markdown).toContain(
      '\n| server, default -t 32 | 20 of 20 | 20 | 1 | 100.000 / 300.000 / 900.000 | n/a | n/a | n/a | n/a | n/a | n/a | n/a |\n',
    );
    expect(markdown.endsWith('| 20 clients at once, all answered | 20 of 20 | met |\n')).toBe(true);
  });

  it('needs both TIME cases for the wire table, and names unknown targets by key', () => {
    const seedOnly = renderTables(results({ summary: [summary('seed50', 't32', 80)] }));
    expect(seedOnly).not.toContain('Seed wire');
    const markdown = renderTables(
      results({ summary: [summary('c50', 't9', 50), summary('c50', 't4', 100)] }),
    );
    expect(markdown).toContain('\n| t9 | 50 | 0.50x | 0.500 | 1.500 | n/a |\n');
    expect(markdown).toContain('\n| server -t 4 | 100 | 1.00x | 0.500 | 1.500 | n/a |\n');
  });
});

describe('cell formats', () => {
  it('prints MiB, milliseconds and ratios', () => {
    expect(mib(129_159_168)).toBe('123.2 MiB');
    expect(mib(null)).toBe('n/a');
    expect(mib(undefined)).toBe('n/a');
    expect(kib(6_861)).toBe('6.7 KiB');
    expect(kib(null)).toBe('n/a');
    expect(ms(1.61)).toBe('1.610');
    expect(times(0.97)).toBe('0.97x');
    expect(times(1)).toBe('1.00x');
    expect(times(Number.NaN)).toBe('n/a');
  });
});

describe('progressLine', () => {
  const record: RunRecord = {
    case: 'c50',
    target: 't32',
    round: 2,
    connections: 50,
    pipeline: 1,
    wire: 'framed',
    command: 'PING',
    requests: 166_340,
    seconds: 2,
    rps: 83_170.4,
    errors: 0,
    latency_ms: latency(0.506),
    server_cpu_us_per_request: 11.1,
  };

  it('says which run it was, its rate and its latency', () => {
    expect(progressLine(record, 3, 48)).toBe(
      'compare: [3/48] round 2 c50 t32: 83170 req/s, p50 0.506 ms, p99 1.518 ms',
    );
  });

  it('adds the errors when there were some', () => {
    expect(progressLine({ ...record, errors: 4 }, 3, 48)).toMatch(/ ms, 4 errors$/);
  });
});

describe('renderTables: metrics on and off', () => {
  const run = (target: string, round: number, rps: number): RunRecord => ({
    ...(latest.runs[0] as RunRecord),
    case: 'metrics50',
    target,
    round,
    rps,
  });
  const summary = (target: string, rps: number): CaseSummary => ({
    ...(latest.summary[0] as CaseSummary),
    case: 'metrics50',
    target,
    rps,
  });
  // Round 2 ran on a busier machine: the medians alone would say 0.90x, the rounds say 0.98x.
  const results: ResultsFile = {
    ...latest,
    targets: { ...latest.targets, metrics: 'server, metrics on' },
    runs: [
      run('t32', 1, 100_000),
      run('metrics', 1, 98_000),
      run('t32', 2, 60_000),
      run('metrics', 2, 59_000),
      run('t32', 3, 110_000),
      run('metrics', 3, 90_000),
    ],
    summary: [summary('t32', 100_000), summary('metrics', 90_000)],
  };

  it("compares each round's two runs and gives the median of those ratios", () => {
    const [header, off, on] = table(
      renderTables(results),
      'Metrics (--metrics-port) at 50 busy connections (PING)',
    );
    expect(header?.[2]).toBe('vs metrics off (median of rounds)');
    expect(off?.slice(0, 3)).toEqual([latest.targets.t32, '100000', '1.00x']);
    expect(on?.slice(0, 3)).toEqual(['server, metrics on', '90000', '0.98x']);
  });
});
