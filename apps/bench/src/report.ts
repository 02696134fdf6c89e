import type { BenchCommand, BenchWire } from './cli.ts';
import type { LatencySummary } from './latency.ts';

/** One bench run, as printed and as `--json` carries it. */
export interface BenchReport {
  command: BenchCommand;
  wire: BenchWire;
  pipeline: number;
  threads: number;
  connections: number;
  /** Requests answered (any status). */
  requests: number;
  seconds: number;
  rps: number;
  /** Requests answered with an error status or never answered, and connections lost. */
  errors: number;
  latency: LatencySummary;
  failures: Record<string, number>;
  interrupted: boolean;
  /** `--tls`: the framed wire inside TLS 1.3. */
  tls?: boolean;
  /** `--handshakes`: `requests` and `rps` count handshakes; latency is connect to keys agreed. */
  handshakes?: boolean;
  /** Only for `--hold`. */
  hold?: { count: number; held: number; answered: number; connectSeconds: number };
}

const round = (value: number, digits: number) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/**
 * The `--json` line: the fields every run has, then the hold figures when there are some.
 *
 * @example
 * formatJson(report);
 * // '{"requests":100000,"connections":50,"seconds":1.2,"rps":83333.33,"errors":0,"latency_ms":{...},...}'
 */
export function formatJson(report: BenchReport): string {
  const line: Record<string, unknown> = {
    requests: report.requests,
    connections: report.connections,
    seconds: round(report.seconds, 4),
    rps: round(report.rps, 2),
    errors: report.errors,
    latency_ms: report.latency,
    command: report.command,
    wire: report.wire,
    pipeline: report.pipeline,
    threads: report.threads,
  };
  if (report.tls === true) line.tls = true;
  if (report.handshakes === true) line.handshakes = true;
  if (report.hold !== undefined) {
    line.hold = report.hold.count;
    line.held = report.hold.held;
    line.answered = report.hold.answered;
    line.connect_seconds = round(report.hold.connectSeconds, 4);
  }
  if (Object.keys(report.failures).length > 0) line.failures = report.failures;
  if (report.interrupted) line.interrupted = true;
  return JSON.stringify(line);
}

// The CSV's first cell: what was measured, e.g. `PING`, `HOLD 100 PING`, `HANDSHAKES TLS PING`.
function csvTest(report: BenchReport): string {
  const tls = report.tls === true ? 'TLS ' : '';
  if (report.handshakes === true) return `HANDSHAKES ${tls}${report.command}`;
  if (report.hold !== undefined) return `HOLD ${report.hold.count} ${tls}${report.command}`;
  return `${tls}${report.command}`;
}

const CSV_HEADER = [
  'test',
  'rps',
  'avg_latency_ms',
  'min_latency_ms',
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'max_latency_ms',
  'requests',
  'connections',
  'errors',
  'seconds',
];

/**
 * `--csv`: redis-benchmark's columns (test, rps, latencies), then requests, connections,
 * errors and seconds. Two lines: header and row.
 *
 * @example
 * formatCsv(report);
 * // '"test","rps",...\n"PING","83333.33","0.587",...\n'
 */
export function formatCsv(report: BenchReport): string {
  const { latency: l } = report;
  const row = [
    csvTest(report),
    report.rps.toFixed(2),
    ...[l.avg, l.min, l.p50, l.p95, l.p99, l.max].map((v) => v.toFixed(3)),
    String(report.requests),
    String(report.connections),
    String(report.errors),
    report.seconds.toFixed(3),
  ];
  const quote = (cells: string[]) => cells.map((c) => `"${c}"`).join(',');
  return `${quote(CSV_HEADER)}\n${quote(row)}\n`;
}

const column = (value: string) => value.padStart(10);

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * The human report, laid out like redis-benchmark's.
 *
 * @example
 * process.stdout.write(formatText(report));
 * // ====== PING ======
 * //   100000 requests completed in 1.20 seconds
 * //   ...
 */
export function formatText(report: BenchReport): string {
  const l = report.latency;
  const lines: string[] = [];
  const wire =
    report.wire === 'seed'
      ? 'seed wire'
      : report.tls === true
        ? 'framed protocol in TLS 1.3'
        : 'framed protocol';
  const what = report.handshakes === true ? 'handshakes' : 'requests';
  if (report.handshakes === true) {
    lines.push(`====== HANDSHAKES${report.tls === true ? ' (TLS)' : ''} ======`);
    lines.push(
      `  ${report.requests} handshakes completed in ${report.seconds.toFixed(2)} seconds${report.interrupted ? ' (interrupted)' : ''}`,
    );
    lines.push(`  ${report.connections} parallel clients`);
    lines.push(`  ${wire}; each: connect, agree keys, one ${report.command}, close`);
  } else if (report.hold === undefined) {
    lines.push(`====== ${report.command} ======`);
    lines.push(
      `  ${report.requests} requests completed in ${report.seconds.toFixed(2)} seconds${report.interrupted ? ' (interrupted)' : ''}`,
    );
    lines.push(`  ${report.connections} parallel clients`);
    lines.push(`  ${wire}, pipeline ${report.pipeline}, ${plural(report.threads, 'load thread')}`);
  } else {
    const h = report.hold;
    lines.push(`====== HOLD ${h.count} (${report.command}) ======`);
    lines.push(
      `  ${h.held} of ${h.count} connections held open at once (opened in ${h.connectSeconds.toFixed(2)} seconds)${report.interrupted ? ' (interrupted)' : ''}`,
    );
    lines.push(
      `  ${h.answered} of ${h.held} answered one request each, in ${report.seconds.toFixed(2)} seconds`,
    );
    lines.push(`  ${wire}`);
  }
  if (report.errors > 0) {
    const detail = Object.entries(report.failures)
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    lines.push(`  errors: ${report.errors}${detail ? ` (${detail})` : ''}`);
  }
  lines.push('');
  lines.push('Summary:');
  lines.push(`  throughput summary: ${report.rps.toFixed(2)} ${what} per second`);
  lines.push(
    report.handshakes === true
      ? '  handshake latency summary (msec, connect to keys agreed):'
      : '  latency summary (msec):',
  );
  lines.push(`  ${['avg', 'min', 'p50', 'p95', 'p99', 'max'].map(column).join('')}`);
  lines.push(
    `  ${[l.avg, l.min, l.p50, l.p95, l.p99, l.max].map((v) => column(v.toFixed(3))).join('')}`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The one-line progress display of a terminal run, redis-benchmark style:
 * `PING: rps=81234.0 (overall: 80211.3) avg_msec=0.612 (overall: 0.598)`.
 *
 * @example
 * const line = new ProgressLine('PING', process.stdout);
 * line.update({ completed, latencySumMs, elapsedMs });
 * line.clear();
 */
export class ProgressLine {
  readonly #label: string;
  readonly #out: NodeJS.WritableStream;
  #last = { completed: 0, latencySumMs: 0, elapsedMs: 0 };
  #shown = false;

  constructor(label: string, out: NodeJS.WritableStream) {
    this.#label = label;
    this.#out = out;
  }

  /** Formats the line from running totals; exported for tests through `update`'s return. */
  update(now: { completed: number; latencySumMs: number; elapsedMs: number }): string {
    const last = this.#last;
    const dt = (now.elapsedMs - last.elapsedMs) / 1000;
    const dn = now.completed - last.completed;
    const rps = dt > 0 ? dn / dt : 0;
    const overall = now.elapsedMs > 0 ? now.completed / (now.elapsedMs / 1000) : 0;
    const avg = dn > 0 ? (now.latencySumMs - last.latencySumMs) / dn : 0;
    const avgAll = now.completed > 0 ? now.latencySumMs / now.completed : 0;
    this.#last = { ...now };
    const line = `${this.#label}: rps=${rps.toFixed(1)} (overall: ${overall.toFixed(1)}) avg_msec=${avg.toFixed(3)} (overall: ${avgAll.toFixed(3)})`;
    this.#out.write(`\r\x1b[K${line}`);
    this.#shown = true;
    return line;
  }

  /** Shows a free-form status (e.g. while connecting). */
  status(text: string): void {
    this.#out.write(`\r\x1b[K${this.#label}: ${text}`);
    this.#shown = true;
  }

  /** Erases the line before the report is printed. */
  clear(): void {
    if (this.#shown) this.#out.write('\r\x1b[K');
    this.#shown = false;
  }
}
