/**
 * The command lines of `attack` and `soak`, apart from the running so that they can be tested
 * without starting anything.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { answeredHelpOrVersion, commandLine, integerIn, UsageError } from '@rtt/cli-support';
import { ATTACK_KINDS, type AttackKind, DEFAULT_CONNECTIONS } from './attackers.ts';

/** The server under test, as both commands take it. */
export interface ServerChoice {
  ip: string;
  /** A running server's port; `undefined`: start one. */
  port: number | undefined;
  /** That server's process id, for its RSS. */
  pid: number | undefined;
  /** Extra arguments for the server we start. */
  serverArgs: string[];
  /** The server we start: this workspace's, or another checkout's `apps/server/src/main.ts`. */
  serverEntry: string | undefined;
  json: boolean;
}

/** What one `attack` does. */
export interface AttackCommandOptions extends ServerChoice {
  kind: AttackKind;
  connections: number;
  seconds: number;
  beforeS: number;
  afterS: number;
  intervalMs: number;
}

/** What one `soak` does. */
export interface SoakCommandOptions extends ServerChoice {
  minutes: number;
  /** Probe clients per wire. */
  good: number;
  /** Seconds per attack cycle (attack, then a quiet quarter). */
  cycleS: number;
  /** Seconds between RSS readings. */
  sampleS: number;
  /** Scales every kind's connections (1: {@link SOAK_CONNECTIONS}). */
  scale: number;
  /** Seconds after the last attack, good clients still on, before the last RSS reading. */
  settleS: number;
}

/**
 * Connections per kind in a soak cycle: a fraction of the `attack` defaults, since a soak
 * runs for minutes and every kind comes back many times.
 */
export const SOAK_CONNECTIONS: Readonly<Record<AttackKind, number>> = {
  'seed-spaces': 2,
  'pipeline-noread': 20,
  'seed-pipeline-noread': 20,
  'slow-frame': 300,
  idle: 200,
  'log-flood': 10,
};

type Parser = ReturnType<typeof commandLine>;

function serverOptions(parser: Parser): Parser {
  return parser
    .option('ip', { type: 'string', default: '127.0.0.1', describe: 'server address' })
    .option('port', {
      alias: 'p',
      type: 'number',
      describe: 'a running server; without it a default server is started on a free port',
    })
    .option('pid', { type: 'number', describe: 'the running server process, for its RSS' })
    .option('server-args', {
      type: 'string',
      default: '',
      describe:
        'extra arguments for the server started, with an = sign: --server-args="--idle-timeout 1"',
    })
    .option('server-entry', {
      type: 'string',
      describe:
        "the server to start: another checkout's apps/server/src/main.ts, for a before/after",
    })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON line' });
}

function serverChoice(parsed: Record<string, unknown>): ServerChoice {
  const ip = String(parsed.ip);
  if (isIP(ip) === 0) throw new UsageError(`invalid address ${ip}`);
  const port = parsed.port === undefined ? undefined : integerIn('port', parsed.port, 1, 65535);
  const pid = parsed.pid === undefined ? undefined : integerIn('pid', parsed.pid, 1, 2 ** 31 - 1);
  const serverArgs = String(parsed['server-args']).split(/\s+/).filter(Boolean);
  const entry = parsed['server-entry'];
  const serverEntry = typeof entry === 'string' && entry !== '' ? resolve(entry) : undefined;
  if (port !== undefined && (serverArgs.length > 0 || serverEntry !== undefined))
    throw new UsageError(
      '--server-args and --server-entry are for a server this tool starts: leave out -p',
    );
  return { ip, port, pid, serverArgs, serverEntry, json: parsed.json === true };
}

const seconds = (name: string, value: unknown, min: number) => {
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > 86_400)
    throw new UsageError(`invalid ${name} ${String(value)}: expected a number from ${min}`);
  return number;
};

/**
 * Reads `attack`'s options; `undefined` after `--help`. A bad value throws a `UsageError`.
 *
 * @example
 * const options = await parseAttackArgs(['--kind', 'idle', '--seconds', '5']);
 * options?.connections; // 900, the kind's default
 */
export async function parseAttackArgs(
  args: readonly string[],
): Promise<AttackCommandOptions | undefined> {
  const parsed = await serverOptions(
    commandLine(args, {
      name: 'attack',
      usage:
        '$0 --kind KIND [options]\n\nOne of the hardening issue\'s attacks, with probe clients measuring the server meanwhile; see docs/BENCHMARKS.md "Under attack".',
      version: false,
    }),
  )
    .option('kind', { choices: ATTACK_KINDS, demandOption: true, describe: 'the attack' })
    .option('connections', {
      alias: 'c',
      type: 'number',
      describe: `attacking connections (default per kind: ${Object.entries(DEFAULT_CONNECTIONS)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ')})`,
    })
    .option('seconds', { type: 'number', default: 10, describe: 'how long the attack lasts' })
    .option('before', { type: 'number', default: 2, describe: 'seconds measured before it' })
    .option('after', {
      type: 'number',
      default: 5,
      describe: 'seconds measured after the attacker left (then the last RSS reading)',
    })
    .option('interval', { type: 'number', default: 10, describe: 'ms between probe requests' })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;
  if (parsed._.length > 0) throw new UsageError(`unexpected argument ${String(parsed._[0])}`);
  const kind = parsed.kind as AttackKind;
  return {
    ...serverChoice(parsed),
    kind,
    connections:
      parsed.connections === undefined
        ? DEFAULT_CONNECTIONS[kind]
        : integerIn('connections', parsed.connections, 1, 100_000),
    seconds: seconds('seconds', parsed.seconds, 0.5),
    beforeS: seconds('before', parsed.before, 0.5),
    afterS: seconds('after', parsed.after, 0),
    intervalMs: integerIn('interval', parsed.interval, 1, 10_000),
  };
}

/**
 * Reads `soak`'s options; `undefined` after `--help`. `--minutes` takes fractions for quick
 * tries. A bad value throws a `UsageError`.
 *
 * @example
 * const options = await parseSoakArgs(['--minutes', '0.5']);
 * options?.cycleS; // 5: six kinds fit in half a minute
 */
export async function parseSoakArgs(
  args: readonly string[],
): Promise<SoakCommandOptions | undefined> {
  const parsed = await serverOptions(
    commandLine(args, {
      name: 'soak',
      usage:
        '$0 [--minutes M] [options]\n\nGood clients and every attack in turn against one server, with its RSS over time; see docs/BENCHMARKS.md "Under attack".',
      version: false,
    }),
  )
    .option('minutes', {
      type: 'number',
      default: 10,
      describe: 'length of the run (fractions too)',
    })
    .option('good', { type: 'number', default: 2, describe: 'good clients per wire' })
    .option('cycle', {
      type: 'number',
      default: 20,
      describe: 'seconds per attack cycle (shortened so every kind runs once in a short run)',
    })
    .option('sample', { type: 'number', default: 2, describe: 'seconds between RSS readings' })
    .option('scale', {
      type: 'number',
      default: 1,
      describe: "multiplies every kind's connections",
    })
    .option('settle', {
      type: 'number',
      default: 60,
      describe: 'seconds after the last attack (good clients still on) before the last RSS reading',
    })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;
  if (parsed._.length > 0) throw new UsageError(`unexpected argument ${String(parsed._[0])}`);
  const minutes = seconds('minutes', parsed.minutes, 0.05);
  const cycle = seconds('cycle', parsed.cycle, 2);
  const scale = Number(parsed.scale);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 100)
    throw new UsageError(`invalid scale ${String(parsed.scale)}`);
  return {
    ...serverChoice(parsed),
    minutes,
    good: integerIn('good', parsed.good, 1, 100),
    // Every kind at least once, whatever the length, down to 2 s per cycle.
    cycleS: Math.max(2, Math.min(cycle, (minutes * 60) / ATTACK_KINDS.length)),
    sampleS: seconds('sample', parsed.sample, 0.1),
    scale,
    settleS: Number(parsed.settle) === 0 ? 0 : seconds('settle', parsed.settle, 1),
  };
}
