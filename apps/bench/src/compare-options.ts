/**
 * compare's command line: the options and their checks, apart from the measuring so that
 * they can be tested without starting anything.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answeredHelpOrVersion, commandLine, UsageError } from '@rtt/cli-support';
import { CASES, type CompareCase } from './compare-cases.ts';
import type { RunSettings } from './compare-measure.ts';

/** What one compare does, from its command line. */
export interface CompareOptions extends RunSettings {
  /** Connections held by the hold test; 0 skips it. */
  hold: number;
  /** Seconds of idle CPU sampling; 0 skips it. */
  idleS: number;
  cases: readonly CompareCase[];
  /** The results file, resolved. */
  out: string;
}

/**
 * Reads compare's options; `undefined` after `--help` (printed). A bad value throws a
 * `UsageError`.
 *
 * @example
 * const options = await parseCompareArgs(['--cases', 'c1', '--runs', '15', '--hold', '0']);
 * options?.cases.map((c) => c.id); // ['c1']
 */
export async function parseCompareArgs(
  args: readonly string[],
): Promise<CompareOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'compare',
    usage:
      '$0 [options]\n\nThe real server against the baseline, side by side; see docs/BENCHMARKS.md.',
    version: false,
  })
    .option('runs', { type: 'number', default: 3, describe: 'rounds; every figure is a median' })
    .option('duration', { type: 'number', default: 2, describe: 'seconds per bench run' })
    .option('warmup', { type: 'number', default: 20_000, describe: 'requests before each run' })
    .option('hold', { type: 'number', default: 10_000, describe: 'connections held (0 skips)' })
    .option('idle', {
      type: 'number',
      default: 10,
      describe: 'seconds of idle CPU sampling (0 skips)',
    })
    .option('cases', {
      type: 'string',
      describe: `comma-separated subset of ${CASES.map((c) => c.id).join(',')}`,
    })
    .option('out', {
      type: 'string',
      default: fileURLToPath(new URL('../results/latest.json', import.meta.url)),
      describe: 'results file for plot',
    })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;
  const positive = (name: string, value: number, min = 1) => {
    if (!Number.isFinite(value) || value < min) throw new UsageError(`invalid ${name}: ${value}`);
    return value;
  };
  const wanted = parsed.cases?.split(',').map((s) => s.trim());
  const cases: readonly CompareCase[] =
    wanted === undefined ? CASES : CASES.filter((c) => wanted.includes(c.id));
  if (wanted !== undefined && cases.length !== wanted.length) {
    throw new UsageError(
      `unknown case in ${parsed.cases}: expected some of ${CASES.map((c) => c.id).join(',')}`,
    );
  }
  return {
    runs: positive('runs', parsed.runs),
    durationS: positive('duration', parsed.duration, 0.1),
    warmup: positive('warmup', parsed.warmup, 0),
    hold: positive('hold', parsed.hold, 0),
    idleS: positive('idle', parsed.idle, 0),
    cases,
    out: resolve(parsed.out),
  };
}
