/**
 * The results file that `compare` writes and `plot` reads: every run, its medians, the idle
 * figures and the hold test. Small enough to keep in the repository beside the report.
 */
import type { LatencySummary } from './latency.ts';
import { median } from './statistics.ts';

/** One bench run against one server. */
export interface RunRecord {
  case: string;
  target: string;
  round: number;
  connections: number;
  pipeline: number;
  wire: string;
  command: string;
  requests: number;
  seconds: number;
  rps: number;
  errors: number;
  latency_ms: LatencySummary;
  /** Server CPU time (all threads) per request served, warm-up included; null off Linux. */
  server_cpu_us_per_request: number | null;
}

/** Medians over the rounds of one case on one server. */
export interface CaseSummary {
  case: string;
  target: string;
  connections: number;
  pipeline: number;
  wire: string;
  command: string;
  runs: number;
  rps: number;
  /** Each percentile's median over the runs. */
  latency_ms: LatencySummary;
  server_cpu_us_per_request: number | null;
  errors: number;
}

/** A server left alone: how much CPU it burns and how much memory it holds. */
export interface IdleRecord {
  target: string;
  seconds: number;
  cpu_percent: number | null;
  rss_bytes: number | null;
  threads: number | null;
}

/** The hold test on one fresh server. */
export interface HoldRecord {
  target: string;
  count: number;
  held: number;
  answered: number;
  errors: number;
  connect_seconds: number;
  answer_seconds: number;
  latency_ms: LatencySummary;
  failures: Record<string, number>;
  rss_before_bytes: number | null;
  rss_held_bytes: number | null;
  rss_after_bytes: number | null;
  bytes_per_connection: number | null;
  threads_held: number | null;
  /**
   * RSS once the held connections have sat idle for a few seconds, still open (a server that
   * gives memory back when quiet is smaller then); absent in results of older runs.
   */
  rss_settled_bytes?: number | null;
  bytes_per_connection_settled?: number | null;
}

export interface ResultsFile {
  generated: string;
  machine: { cpus: number; model: string; node: string; platform: string };
  settings: { runs: number; duration_s: number; warmup: number; load_threads: number };
  /** Target key to a readable name, e.g. `t32` to `server -t 32 (default)`. */
  targets: Record<string, string>;
  idle: IdleRecord[];
  runs: RunRecord[];
  summary: CaseSummary[];
  hold: HoldRecord[];
}

/**
 * Medians per (case, target), in the order the pairs first appear.
 *
 * @example
 * summarize(runs).find((s) => s.case === 'c50' && s.target === 't32')?.rps;
 */
export function summarize(runs: readonly RunRecord[]): CaseSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const key = `${run.case}\u0000${run.target}`;
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as RunRecord;
    const at = (pick: (l: LatencySummary) => number) =>
      median(group.map((r) => pick(r.latency_ms)));
    const cpu = group.map((r) => r.server_cpu_us_per_request).filter((v) => v !== null);
    return {
      case: first.case,
      target: first.target,
      connections: first.connections,
      pipeline: first.pipeline,
      wire: first.wire,
      command: first.command,
      runs: group.length,
      rps: Math.round(median(group.map((r) => r.rps))),
      latency_ms: {
        avg: at((l) => l.avg),
        min: at((l) => l.min),
        p50: at((l) => l.p50),
        p95: at((l) => l.p95),
        p99: at((l) => l.p99),
        max: at((l) => l.max),
      },
      server_cpu_us_per_request: cpu.length > 0 ? Math.round(median(cpu) * 10) / 10 : null,
      errors: group.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}

/**
 * The summary of one case on one target, if it was run.
 *
 * @example
 * findSummary(results.summary, 'c1', 'baseline')?.latency_ms.p50;
 */
export function findSummary(
  summary: readonly CaseSummary[],
  caseId: string,
  target: string,
): CaseSummary | undefined {
  return summary.find((s) => s.case === caseId && s.target === target);
}

const LINE_WIDTH = 100;

// One value laid out the way the repository's formatter lays out JSON: on one line when it
// fits within the line width (with the key before it and a comma after), else one member per
// line, indented by two spaces.
function layout(value: unknown, indent: string, prefix: string, suffix: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const isArray = Array.isArray(value);
  const entries = isArray
    ? (value as unknown[]).map((item) => ['', item] as const)
    : Object.entries(value as Record<string, unknown>).map(
        ([key, item]) => [`${JSON.stringify(key)}: `, item] as const,
      );
  if (entries.length === 0) return isArray ? '[]' : '{}';
  const inline = entries.map(([key, item]) => `${key}${layout(item, '', '', '')}`).join(', ');
  const oneLine = isArray ? `[${inline}]` : `{ ${inline} }`;
  if (
    !oneLine.includes('\n') &&
    indent.length + prefix.length + oneLine.length + suffix.length <= LINE_WIDTH
  ) {
    return oneLine;
  }
  const inner = `${indent}  `;
  const lines = entries.map(([key, item], i) => {
    const comma = i < entries.length - 1 ? ',' : '';
    return `${inner}${key}${layout(item, inner, key, comma)}${comma}`;
  });
  return `${isArray ? '[' : '{'}\n${lines.join('\n')}\n${indent}${isArray ? ']' : '}'}`;
}

/**
 * The results file as text, laid out as the repository's formatter (Biome) lays out JSON, so
 * that a fresh run passes the lint check as written and its diff shows which figures moved.
 *
 * @example
 * writeFileSync('results/latest.json', formatResultsFile(results));
 */
export function formatResultsFile(results: ResultsFile): string {
  return `${layout(results, '', '', '')}\n`;
}

/**
 * A Markdown table; numbers are printed as given.
 *
 * @example
 * markdownTable(['a', 'b'], [[1, 2]]); // '| a | b |\n| --- | --- |\n| 1 | 2 |\n'
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const line = (cells: readonly unknown[]) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  return `${[line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')}\n`;
}
