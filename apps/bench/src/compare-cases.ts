/**
 * What the benchmark report measures: the servers compared (targets) and the cases run on
 * them. The one place where case ids and target keys are spelled; `compare` runs these,
 * its tables and verdicts read them back, and `plot` draws them. No Node APIs here, so the
 * renderers that import it stay pure.
 */

/** A server compared: how it is started and what the report calls it. */
export interface Target {
  /** Readable name, in the tables and the results file. */
  readonly label: string;
  /** Which entry point runs it: the real server or the baseline. */
  readonly program: 'server' | 'baseline';
  /** Arguments on top of the address and port. */
  readonly args: readonly string[];
}

/** The servers compared, by key; the results file lists them in this order. */
export const TARGETS = {
  t32: { label: 'server, default -t 32', program: 'server', args: [] },
  t1: { label: 'server -t 1', program: 'server', args: ['-t', '1'] },
  t2: { label: 'server -t 2', program: 'server', args: ['-t', '2'] },
  t4: { label: 'server -t 4', program: 'server', args: ['-t', '4'] },
  t0: { label: 'server -t 0 (no pool)', program: 'server', args: ['-t', '0'] },
  metrics: {
    label: 'server, metrics on',
    program: 'server',
    args: ['--metrics-port', '0'],
  },
  baseline: { label: 'baseline', program: 'baseline', args: [] },
} as const satisfies Record<string, Target>;

/** A key of {@link TARGETS}. */
export type TargetKey = keyof typeof TARGETS;

/** The server as it ships (default `-t 32`): the one the report's targets are about. */
export const DEFAULT_SERVER: TargetKey = 't32';

/** The reference server the real one is judged against. */
export const BASELINE: TargetKey = 'baseline';

/** The servers the hold test starts fresh, one after another, in this order. */
export const HOLD_TARGETS: readonly TargetKey[] = ['t32', 't0', 'baseline'];

/** One load the bench puts on some of the targets. */
export interface CompareCase<Id extends string = string> {
  readonly id: Id;
  /** The load in words, as the tables show it. */
  readonly label: string;
  readonly targets: readonly TargetKey[];
  readonly connections: number;
  readonly pipeline: number;
  readonly wire: 'framed' | 'seed';
  readonly command: 'PING' | 'TIME';
}

const VERSUS_BASELINE: readonly TargetKey[] = [DEFAULT_SERVER, BASELINE];

const framed = <Id extends string>(
  id: Id,
  label: string,
  connections: number,
  targets: readonly TargetKey[],
  load: { pipeline?: number; command?: 'PING' | 'TIME' } = {},
): CompareCase<Id> => ({
  id,
  label,
  targets,
  connections,
  pipeline: load.pipeline ?? 1,
  wire: 'framed',
  command: load.command ?? 'PING',
});

// The seed wire has no PING and no pipelining, and only the real server speaks it.
const seed = <Id extends string>(id: Id, label: string, connections: number): CompareCase<Id> => ({
  id,
  label,
  targets: [DEFAULT_SERVER],
  connections,
  pipeline: 1,
  wire: 'seed',
  command: 'TIME',
});

/**
 * Every case of the report, in the order they run. The connection sweep doubles as the 1-
 * and 50-connection cases.
 */
export const CASES = [
  framed('c1', '1 connection', 1, VERSUS_BASELINE),
  framed('c10', '10 connections', 10, VERSUS_BASELINE),
  framed('c50', '50 connections', 50, ['t32', 't1', 't2', 't4', 't0', 'baseline']),
  framed('c200', '200 connections', 200, VERSUS_BASELINE),
  framed('c1000', '1000 connections', 1000, VERSUS_BASELINE),
  framed('p16', '50 connections, pipeline 16', 50, VERSUS_BASELINE, { pipeline: 16 }),
  framed('time50', '50 connections, TIME', 50, VERSUS_BASELINE, { command: 'TIME' }),
  seed('seed50', '50 connections, seed wire', 50),
  framed('metrics50', '50 connections, metrics on and off', 50, [DEFAULT_SERVER, 'metrics']),
] as const;

/** The id of one of {@link CASES}. */
export type CaseId = (typeof CASES)[number]['id'];

/**
 * The case with this id.
 *
 * @example
 * caseById('c50').targets; // ['t32', 't1', 't2', 't4', 't0', 'baseline']
 */
export function caseById(id: CaseId): CompareCase<CaseId> {
  const found = CASES.find((c) => c.id === id);
  // Unreachable while CaseId is derived from CASES; kept so a bad cast fails loudly.
  if (found === undefined) throw new RangeError(`unknown case ${id}`);
  return found;
}

/** The connection sweep of the charts, fewest connections first (PING, pipeline 1). */
export const CONNECTION_SWEEP: readonly CompareCase<CaseId>[] = (
  ['c1', 'c10', 'c50', 'c200', 'c1000'] as const
).map(caseById);

/** Every pool size, and the baseline, at 50 busy connections. */
export const POOL_SIZES_CASE = caseById('c50');

/** One connection: the round-trip time the report's latency target is about. */
export const ONE_CONNECTION_CASE = caseById('c1');

/** The seed wire (TIME, 50 connections), for the wire table. */
export const SEED_WIRE_CASE = caseById('seed50');

/** The server with `--metrics-port` and without, side by side: what counting costs. */
export const METRICS_CASE = caseById('metrics50');

/** The framed protocol under the seed wire's load, for the wire table. */
export const FRAMED_TIME_CASE = caseById('time50');

/**
 * The order a case's targets run in, in a round (the first is 1). It rotates every round so
 * that no server always runs first, or right after the noisiest one.
 *
 * @example
 * targetsInRound(caseById('c1'), 2); // ['baseline', 't32']
 */
export function targetsInRound(c: CompareCase, round: number): TargetKey[] {
  return c.targets.map((_, i) => c.targets[(i + round - 1) % c.targets.length] as TargetKey);
}
