/**
 * The Markdown report of a results file: the tables `compare` prints (and docs/BENCHMARKS.md
 * quotes), the ratios in them, the verdicts on the report's targets, and the progress line of
 * one run. Pure functions of their arguments; nothing here measures or prints.
 */
import {
  BASELINE,
  CASES,
  DEFAULT_SERVER,
  FRAMED_TIME_CASE,
  METRICS_CASE,
  ONE_CONNECTION_CASE,
  POOL_SIZES_CASE,
  SEED_WIRE_CASE,
} from './compare-cases.ts';
import {
  type CaseSummary,
  findSummary,
  markdownTable,
  type ResultsFile,
  type RunRecord,
} from './results.ts';
import { median, ratio } from './statistics.ts';

/**
 * Bytes as MiB with one decimal, or `n/a` when they could not be read.
 *
 * @example
 * mib(129159168); // '123.2 MiB'
 * mib(null); // 'n/a'
 */
export function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Bytes as KiB with one decimal, or `n/a`.
 *
 * @example
 * kib(6861); // '6.7 KiB'
 */
export function kib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * Milliseconds with three decimals (microsecond resolution, as the histograms have).
 *
 * @example
 * ms(1.61); // '1.610'
 */
export function ms(value: number): string {
  return value.toFixed(3);
}

/**
 * A ratio as `0.97x`, or `n/a` when there is none (see `ratio`).
 *
 * @example
 * times(0.97); // '0.97x'
 * times(Number.NaN); // 'n/a'
 */
export function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

const verdict = (ok: boolean) => (ok ? 'met' : 'missed');

/**
 * The report's targets, each with the figure measured and whether it is met. A target whose
 * figures were not measured (a `--cases` subset, `--idle 0`, `--hold 0`) has no row.
 *
 * @example
 * verdicts(results); // [['idle default server < 1% of a core', '0%', 'met'], ...]
 */
export function verdicts(results: ResultsFile): string[][] {
  const { summary } = results;
  const rows: string[][] = [];
  const idle = results.idle.find((i) => i.target === DEFAULT_SERVER);
  if (idle?.cpu_percent !== null && idle?.cpu_percent !== undefined) {
    rows.push([
      'idle default server < 1% of a core',
      `${idle.cpu_percent}%`,
      verdict(idle.cpu_percent < 1),
    ]);
  }
  const pool = summary.filter((s) => s.case === POOL_SIZES_CASE.id && s.target !== BASELINE);
  const t32 = findSummary(summary, POOL_SIZES_CASE.id, DEFAULT_SERVER);
  if (t32 !== undefined && pool.length > 1) {
    const best = pool.reduce((a, b) => (b.rps > a.rps ? b : a));
    const r = ratio(t32.rps, best.rps);
    rows.push([
      `-t 32 within 10% of the best -t (${results.targets[best.target] ?? best.target})`,
      times(r),
      verdict(r >= 0.9),
    ]);
  }
  const base50 = findSummary(summary, POOL_SIZES_CASE.id, BASELINE);
  if (t32 !== undefined && base50 !== undefined) {
    const r = ratio(t32.rps, base50.rps);
    rows.push(['throughput at 50 connections >= 0.9x baseline', times(r), verdict(r >= 0.9)]);
  }
  const real1 = findSummary(summary, ONE_CONNECTION_CASE.id, DEFAULT_SERVER);
  const base1 = findSummary(summary, ONE_CONNECTION_CASE.id, BASELINE);
  if (real1 !== undefined && base1 !== undefined) {
    const r = ratio(real1.latency_ms.p50, base1.latency_ms.p50);
    rows.push([
      'median RTT at 1 connection <= 1.1x baseline',
      `${times(r)} (${ms(real1.latency_ms.p50)} vs ${ms(base1.latency_ms.p50)} ms)`,
      verdict(r <= 1.1),
    ]);
  }
  const hold = results.hold.find((h) => h.target === DEFAULT_SERVER);
  if (hold !== undefined) {
    rows.push([
      `${hold.count} clients at once, all answered`,
      `${hold.answered} of ${hold.count}`,
      verdict(hold.answered === hold.count),
    ]);
  }
  return rows;
}

/**
 * The Markdown report of a results file: what compare prints and BENCHMARKS.md quotes. A
 * section whose figures are not in the file is left out; the targets table is always there.
 *
 * @example
 * const results = JSON.parse(readFileSync('results/latest.json', 'utf8')) as ResultsFile;
 * renderTables(results).split('\n')[0]; // '### Pool threads at 50 busy connections (PING)'
 */
export function renderTables(results: ResultsFile): string {
  const { summary, targets } = results;
  const name = (key: string) => targets[key] ?? key;
  const out: string[] = [];
  const get = (caseId: string, target: string) => findSummary(summary, caseId, target);

  const pool = summary.filter((s) => s.case === POOL_SIZES_CASE.id);
  if (pool.length > 0) {
    const best = Math.max(...pool.map((s) => s.rps));
    out.push('### Pool threads at 50 busy connections (PING)\n');
    out.push(
      markdownTable(
        ['server', 'req/s (median)', 'vs best', 'p50 ms', 'p99 ms', 'server CPU µs/req'],
        pool.map((s) => [
          name(s.target),
          s.rps,
          times(ratio(s.rps, best)),
          ms(s.latency_ms.p50),
          ms(s.latency_ms.p99),
          s.server_cpu_us_per_request ?? 'n/a',
        ]),
      ),
    );
  }

  const rows = CASES.filter((c) => c.targets.includes(BASELINE)).flatMap((c) => {
    const real = get(c.id, DEFAULT_SERVER);
    const base = get(c.id, BASELINE);
    if (real === undefined || base === undefined) return [];
    return [
      [
        c.label,
        real.rps,
        base.rps,
        times(ratio(real.rps, base.rps)),
        `${ms(real.latency_ms.p50)} / ${ms(base.latency_ms.p50)}`,
        times(ratio(real.latency_ms.p50, base.latency_ms.p50)),
        `${ms(real.latency_ms.p99)} / ${ms(base.latency_ms.p99)}`,
        `${real.server_cpu_us_per_request ?? 'n/a'} / ${base.server_cpu_us_per_request ?? 'n/a'}`,
      ],
    ];
  });
  if (rows.length > 0) {
    out.push('\n### Real server (default -t 32) against the baseline\n');
    out.push(
      markdownTable(
        [
          'load',
          'server req/s',
          'baseline req/s',
          'throughput ratio',
          'p50 ms (server / baseline)',
          'p50 ratio',
          'p99 ms (server / baseline)',
          'server CPU µs/req (server / baseline)',
        ],
        rows,
      ),
    );
  }

  const seed = get(SEED_WIRE_CASE.id, DEFAULT_SERVER);
  const time = get(FRAMED_TIME_CASE.id, DEFAULT_SERVER);
  if (seed !== undefined && time !== undefined) {
    out.push('\n### Seed wire against the framed protocol (server, 50 connections, TIME)\n');
    out.push(
      markdownTable(
        ['wire', 'req/s', 'p50 ms', 'p99 ms'],
        [
          ['framed', time.rps, ms(time.latency_ms.p50), ms(time.latency_ms.p99)],
          ['seed', seed.rps, ms(seed.latency_ms.p50), ms(seed.latency_ms.p99)],
        ],
      ),
    );
  }

  const metricsOff = get(METRICS_CASE.id, DEFAULT_SERVER);
  const metricsOn = get(METRICS_CASE.id, 'metrics');
  if (metricsOff !== undefined && metricsOn !== undefined) {
    // On a shared machine the load swings between rounds more than counting costs: each
    // round's two runs are back to back, so their ratio is the steadier figure.
    const rounds = (target: string) =>
      new Map(
        results.runs
          .filter((r) => r.case === METRICS_CASE.id && r.target === target)
          .map((r) => [r.round, r.rps]),
      );
    const off = rounds(DEFAULT_SERVER);
    const paired = [...rounds('metrics')].flatMap(([round, rps]) => {
      const base = off.get(round);
      return base === undefined ? [] : [ratio(rps, base)];
    });
    out.push('\n### Metrics (--metrics-port) at 50 busy connections (PING)\n');
    out.push(
      markdownTable(
        [
          'server',
          'req/s (median)',
          'vs metrics off (median of rounds)',
          'p50 ms',
          'p99 ms',
          'server CPU µs/req',
        ],
        [
          metricsRow(name(metricsOff.target), metricsOff, 1),
          metricsRow(
            name(metricsOn.target),
            metricsOn,
            paired.length > 0 ? median(paired) : ratio(metricsOn.rps, metricsOff.rps),
          ),
        ],
      ),
    );
  }

  if (results.idle.length > 0) {
    out.push(`\n### Idle servers (${results.idle[0]?.seconds ?? 0} s, no clients)\n`);
    out.push(
      markdownTable(
        ['server', 'CPU % of one core', 'RSS', 'threads'],
        results.idle.map((i) => [
          name(i.target),
          i.cpu_percent ?? 'n/a',
          mib(i.rss_bytes),
          i.threads ?? 'n/a',
        ]),
      ),
    );
  }

  if (results.hold.length > 0) {
    out.push('\n### Connections held open at once, then one request each\n');
    out.push(
      markdownTable(
        [
          'server',
          'held',
          'answered',
          'opened in s',
          'answers p50 / p99 / max ms',
          'RSS idle',
          'RSS holding',
          'per connection',
          'RSS 3 s after close',
          'threads holding',
          'RSS holding, 5 s idle',
          'per connection, 5 s idle',
        ],
        results.hold.map((h) => [
          name(h.target),
          `${h.held} of ${h.count}`,
          h.answered,
          h.connect_seconds,
          `${ms(h.latency_ms.p50)} / ${ms(h.latency_ms.p99)} / ${ms(h.latency_ms.max)}`,
          mib(h.rss_before_bytes),
          mib(h.rss_held_bytes),
          kib(h.bytes_per_connection),
          mib(h.rss_after_bytes),
          h.threads_held ?? 'n/a',
          mib(h.rss_settled_bytes),
          kib(h.bytes_per_connection_settled),
        ]),
      ),
    );
  }
  out.push(`\n### Targets\n`);
  out.push(markdownTable(['target', 'figure', 'result'], verdicts(results)));
  return out.join('\n');
}

// One row of the metrics table: a server's medians and its throughput against metrics off.
const metricsRow = (label: string, s: CaseSummary, vsOff: number) => [
  label,
  s.rps,
  times(vsOff),
  ms(s.latency_ms.p50),
  ms(s.latency_ms.p99),
  s.server_cpu_us_per_request ?? 'n/a',
];

/**
 * The progress line compare logs after each run (without the newline).
 *
 * @example
 * progressLine(record, 3, 48);
 * // 'compare: [3/48] round 1 c50 t32: 83170 req/s, p50 0.506 ms, p99 2.101 ms'
 */
export function progressLine(record: RunRecord, done: number, total: number): string {
  const errors = record.errors ? `, ${record.errors} errors` : '';
  return `compare: [${done}/${total}] round ${record.round} ${record.case} ${record.target}: ${Math.round(record.rps)} req/s, p50 ${ms(record.latency_ms.p50)} ms, p99 ${ms(record.latency_ms.p99)} ms${errors}`;
}
