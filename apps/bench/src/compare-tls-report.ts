/**
 * `compare-tls`'s cases, options, medians and Markdown tables: pure functions, apart from the
 * measuring in compare-tls.ts, so that they are tested without starting anything.
 */
import { answeredHelpOrVersion, commandLine, UsageError } from '@rtt/cli-support';
import { mib, ms, times } from './compare-render.ts';
import type { LatencySummary } from './latency.ts';
import { markdownTable } from './results.ts';
import { median, ratio } from './statistics.ts';

/** The two servers compared: the real one with `--tls`, and the baseline with `--tls`. */
export const TLS_TARGETS = ['server', 'baseline'] as const;
export type TlsTarget = (typeof TLS_TARGETS)[number];

/** One load, with the bench options that make it (address, port and duration added). */
export interface TlsCase {
  readonly id: string;
  readonly label: string;
  readonly args: readonly string[];
  /** What its rate counts. */
  readonly unit: 'handshakes/s' | 'req/s';
  /**
   * Plain TCP: run against the plain baseline (the TLS one serves TLS only; the real server
   * serves both on one port).
   */
  readonly plain?: boolean;
}

/** The loads, in the order they run each round and are printed. */
export const TLS_CASES: readonly TlsCase[] = [
  {
    id: 'hs',
    label: 'TLS handshakes, 8 connections cycling',
    args: ['--tls', '--handshakes', '-c', '8', '--warmup', '200'],
    unit: 'handshakes/s',
  },
  {
    // The same cycle without TLS: what TLS adds to a connection's set-up.
    id: 'hs-tcp',
    label: 'plain TCP handshakes (hello only), 8 connections',
    args: ['--handshakes', '-c', '8', '--warmup', '200'],
    unit: 'handshakes/s',
    plain: true,
  },
  {
    id: 'c1',
    label: 'PING in TLS, 1 connection',
    args: ['--tls', '-c', '1', '--warmup', '5000'],
    unit: 'req/s',
  },
  {
    id: 'c50',
    label: 'PING in TLS, 50 connections',
    args: ['--tls', '-c', '50', '--warmup', '20000'],
    unit: 'req/s',
  },
];

/** compare-tls's command line. */
export interface CompareTlsOptions {
  rounds: number;
  durationS: number;
  /** TLS connections held on each fresh server for the memory figure; 0 skips it. */
  hold: number;
  cases: readonly TlsCase[];
}

/**
 * Reads compare-tls's options; `undefined` after `--help`.
 *
 * @throws {UsageError} for a bad value or an unknown case
 * @example
 * const options = await parseCompareTlsArgs(['--rounds', '3', '--duration', '3', '--hold', '2000']);
 */
export async function parseCompareTlsArgs(
  args: readonly string[],
): Promise<CompareTlsOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'compare-tls',
    usage:
      '$0 [options]\n\nThe real server with --tls against the minimal TLS baseline, side by side.',
    version: false,
  })
    .option('rounds', { type: 'number', default: 3, describe: 'rounds; figures are medians' })
    .option('duration', { type: 'number', default: 3, describe: 'seconds per bench run' })
    .option('hold', { type: 'number', default: 2_000, describe: 'TLS connections held (0 skips)' })
    .option('cases', {
      type: 'string',
      describe: `comma-separated subset of ${TLS_CASES.map((c) => c.id).join(',')}`,
    })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;
  if (parsed._.length > 0) throw new UsageError(`unexpected argument ${String(parsed._[0])}`);
  const atLeast = (name: string, value: number, min: number, whole = true) => {
    if (!Number.isFinite(value) || value < min || (whole && !Number.isInteger(value))) {
      throw new UsageError(`invalid ${name}: ${value}`);
    }
    return value;
  };
  const wanted = parsed.cases?.split(',').map((s) => s.trim());
  const cases = wanted === undefined ? TLS_CASES : TLS_CASES.filter((c) => wanted.includes(c.id));
  if (wanted !== undefined && cases.length !== wanted.length) {
    throw new UsageError(
      `unknown case in ${parsed.cases}: expected some of ${TLS_CASES.map((c) => c.id).join(',')}`,
    );
  }
  return {
    rounds: atLeast('rounds', parsed.rounds, 1),
    durationS: atLeast('duration', parsed.duration, 0.1, false),
    hold: atLeast('hold', parsed.hold, 0),
    cases,
  };
}

/**
 * The order of the two servers in a round: swapped every round, so neither always runs on
 * the machine the other has just warmed (or heated).
 *
 * @example
 * targetsInRound(1); // ['server', 'baseline']
 * targetsInRound(2); // ['baseline', 'server']
 */
export function targetsInRound(round: number): readonly TlsTarget[] {
  return round % 2 === 1 ? TLS_TARGETS : [...TLS_TARGETS].reverse();
}

/** One bench run of a case on one server. */
export interface TlsRun {
  case: string;
  target: TlsTarget;
  round: number;
  /** Handshakes or requests per second. */
  rate: number;
  errors: number;
  latency_ms: LatencySummary;
  /** The server's CPU time (all threads) per handshake or request of the run, warm-up included. */
  server_cpu_us: number | null;
}

/** A fresh server holding many TLS connections. */
export interface TlsHold {
  target: TlsTarget;
  count: number;
  held: number;
  answered: number;
  rss_before_bytes: number | null;
  rss_held_bytes: number | null;
}

/**
 * Resident bytes per held connection, or null when a reading is missing.
 *
 * @example
 * bytesPerConnection({ held: 1000, rss_before_bytes: 100e6, rss_held_bytes: 120e6, ... }); // 20000
 */
export function bytesPerConnection(hold: TlsHold): number | null {
  if (hold.rss_before_bytes === null || hold.rss_held_bytes === null || hold.held === 0) {
    return null;
  }
  return Math.round((hold.rss_held_bytes - hold.rss_before_bytes) / hold.held);
}

const kib = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024).toFixed(1)} KiB`);
const whole = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';

/** The medians of one case on one server. */
export interface TlsMedians {
  rate: number;
  p50: number;
  p99: number;
  cpu: number;
  errors: number;
}

/**
 * The medians of a case's runs on one server (errors are summed).
 *
 * @example
 * medians(runs, 'c50', 'server').rate; // 38211
 */
export function medians(runs: readonly TlsRun[], caseId: string, target: TlsTarget): TlsMedians {
  const mine = runs.filter((r) => r.case === caseId && r.target === target);
  return {
    rate: median(mine.map((r) => r.rate)),
    p50: median(mine.map((r) => r.latency_ms.p50)),
    p99: median(mine.map((r) => r.latency_ms.p99)),
    cpu: median(mine.map((r) => r.server_cpu_us ?? Number.NaN)),
    errors: mine.reduce((sum, r) => sum + r.errors, 0),
  };
}

/**
 * The server's rate over the baseline's in each round of a case (the two ran one after the
 * other), in round order. Paired this way, a round in which the shared machine was slower for
 * both counts once, as a ratio, instead of moving one server's median.
 *
 * @example
 * roundRatios(runs, 'hs'); // [0.934, 0.881, 0.97]
 */
export function roundRatios(runs: readonly TlsRun[], caseId: string): number[] {
  const rounds = [...new Set(runs.filter((r) => r.case === caseId).map((r) => r.round))];
  const ratios: number[] = [];
  for (const round of rounds.sort((a, b) => a - b)) {
    const at = (target: TlsTarget) =>
      runs.find((r) => r.case === caseId && r.round === round && r.target === target);
    const server = at('server');
    const baseline = at('baseline');
    if (server === undefined || baseline === undefined) continue;
    // Unrounded: the median is rounded once, so that the verdict is on the figure shown.
    const r = server.rate / baseline.rate;
    if (baseline.rate > 0 && Number.isFinite(r)) ratios.push(r);
  }
  return ratios;
}

/** The 0.9x target of the issue: the real server's rate at least this share of the baseline's. */
export const TLS_TARGET_RATIO = 0.9;

/**
 * The Markdown tables: per case the medians of both servers and the ratio against the 0.9x
 * target; then the memory of the held TLS connections.
 *
 * @example
 * process.stdout.write(renderTlsTables({ runs, hold, rounds: 3, durationS: 3 }));
 */
export function renderTlsTables({
  runs,
  hold,
  rounds,
  durationS,
}: {
  runs: readonly TlsRun[];
  hold: readonly TlsHold[];
  rounds: number;
  durationS: number;
}): string {
  const out: string[] = [];
  const ids = [...new Set(runs.map((r) => r.case))];
  if (ids.length > 0) {
    out.push(
      `Medians of ${rounds} rounds of ${durationS} s; ratio = server / baseline, of the medians` +
        " and, paired, the median of the rounds' own ratios (lowest to highest); the target is" +
        ' judged on the paired one.\n',
    );
    const rows = ids.map((id) => {
      const c = TLS_CASES.find((k) => k.id === id);
      const s = medians(runs, id, 'server');
      const b = medians(runs, id, 'baseline');
      const paired = roundRatios(runs, id);
      const r = ratio(median(paired), 1);
      // Rounds without both runs are left out of the pairing: say how many were paired.
      const rounds = new Set(runs.filter((run) => run.case === id).map((run) => run.round)).size;
      const spread =
        paired.length > 1
          ? ` (${times(Math.min(...paired))} to ${times(Math.max(...paired))}${paired.length < rounds ? `, ${paired.length} of ${rounds} rounds` : ''})`
          : '';
      return [
        c?.label ?? id,
        c?.unit ?? '',
        whole(s.rate),
        whole(b.rate),
        times(ratio(s.rate, b.rate)),
        `${times(r)}${spread}`,
        Number.isFinite(r) ? (r >= TLS_TARGET_RATIO ? 'met' : 'missed') : 'n/a',
        `${ms(s.p50)} / ${ms(s.p99)}`,
        `${ms(b.p50)} / ${ms(b.p99)}`,
        Number.isFinite(s.cpu) ? s.cpu.toFixed(1) : 'n/a',
        Number.isFinite(b.cpu) ? b.cpu.toFixed(1) : 'n/a',
        String(s.errors + b.errors),
      ];
    });
    out.push(
      markdownTable(
        [
          'load',
          'unit',
          'server',
          'baseline',
          'ratio',
          'paired ratio',
          '>= 0.9x',
          'server p50 / p99 ms',
          'baseline p50 / p99 ms',
          'server CPU µs/op',
          'baseline CPU µs/op',
          'errors',
        ],
        rows,
      ),
    );
  }
  if (hold.length > 0) {
    if (out.length > 0) out.push('');
    out.push(
      markdownTable(
        ['server', 'held (answered)', 'RSS idle', 'RSS holding', 'per TLS connection'],
        hold.map((h) => [
          h.target,
          `${h.held.toLocaleString('en-US')} of ${h.count.toLocaleString('en-US')} (${h.answered.toLocaleString('en-US')})`,
          mib(h.rss_before_bytes),
          mib(h.rss_held_bytes),
          kib(bytesPerConnection(h)),
        ]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

/**
 * One line on stderr per finished run.
 *
 * @example
 * progressLine(run, 3, 24); // 'compare-tls: 3/24 round 1 c50 server: 38211 req/s, p50 1.012 ms'
 */
export function progressLine(run: TlsRun, done: number, total: number): string {
  const unit = TLS_CASES.find((c) => c.id === run.case)?.unit ?? '/s';
  const errors = run.errors > 0 ? `, ${run.errors} errors` : '';
  return `compare-tls: ${done}/${total} round ${run.round} ${run.case} ${run.target}: ${whole(run.rate)} ${unit}, p50 ${ms(run.latency_ms.p50)} ms${errors}`;
}
