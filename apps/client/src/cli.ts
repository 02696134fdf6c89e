import { answeredHelpOrVersion, commandLine, integerIn, UsageError } from '@rtt/cli-support';

/** The commands a script can ask for on the command line. */
export const ONE_SHOT_COMMANDS = ['time', 'date', 'temp', 'ping'] as const;
/** One of {@link ONE_SHOT_COMMANDS}. */
export type OneShotCommand = (typeof ONE_SHOT_COMMANDS)[number];

export interface ClientOptions {
  ip: string;
  port: number;
  wire: 'framed' | 'seed';
  /** A command to run instead of the interactive menu. */
  command: OneShotCommand | undefined;
  /** Times to ask (0: until Ctrl+C); 1 unless `--count` says otherwise. */
  count: number;
  /** Seconds between two requests of a `--count` run. */
  interval: number;
  /** One JSON object per answer (and per error) instead of text lines. */
  json: boolean;
  /** Milliseconds allowed for connecting and the key exchange. */
  timeoutMs: number;
}

const isCommand = (word: string): word is OneShotCommand =>
  (ONE_SHOT_COMMANDS as readonly string[]).includes(word.toLowerCase());

// Node's timers hold at most 2^31 - 1 ms; past that they would fire at once.
const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(name: string, value: unknown, min: number): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > MAX_SECONDS) {
    throw new UsageError(
      `invalid ${name} ${String(value)}: expected a number of seconds from ${min} to ${MAX_SECONDS}`,
    );
  }
  return number;
}

/**
 * Parses the client's command line: `-ip` (one option, as in the seed) or the host as a
 * positional argument; `-p`; `--wire`; and, for scripts, a command (`time`, `date`, `temp`,
 * `ping`) with `--count`, `--interval` and `--json`. A single positional word that is a
 * command is the command, not a host. Resolves with `undefined` when `--help` or
 * `--version` was answered.
 *
 * @example
 * await parseClientArgs(['-ip', '10.0.0.5', '-p', '8000']); // the menu, on 10.0.0.5:8000
 * await parseClientArgs(['10.0.0.5', 'time', '--count', '3']); // three TIMEs, then a summary
 */
export async function parseClientArgs(
  args: readonly string[],
  version = '0.1.0',
): Promise<ClientOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'rtt-client',
    usage: [
      '$0 [host] [command] [options]',
      '',
      'The rtt client: asks the server for its time, date and temperature, with round-trip times.',
      'With no command, the interactive menu; with one (time, date, temp, ping), its answer:',
      '  $0 time                       one answer, then exit',
      '  $0 10.0.0.5 ping --count 0    every second until Ctrl+C, then a summary',
      '  $0 temp --json                {"command":"TEMP","status":"OK","answer":...,"rtt_ms":...}',
    ].join('\n'),
    version,
  })
    .command('$0 [host] [command]', false, (y) =>
      y
        .positional('host', { type: 'string', describe: 'server address (same as -ip)' })
        .positional('command', { type: 'string', describe: 'time, date, temp or ping' }),
    )
    .option('ip', {
      type: 'string',
      describe: 'server address (-ip works too)',
      default: undefined,
    })
    .option('port', { alias: 'p', type: 'number', default: 7777, describe: 'server port' })
    .option('wire', {
      choices: ['framed', 'seed'] as const,
      default: 'framed' as const,
      describe: 'framed: our protocol; seed: the original Python server',
    })
    .option('count', {
      alias: 'c',
      type: 'number',
      describe: 'with a command: ask this many times (0: until Ctrl+C)',
    })
    .option('interval', {
      alias: 'i',
      type: 'number',
      describe: 'with --count: seconds between requests (default 1)',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'with a command: one JSON object per answer',
    })
    .option('timeout', {
      type: 'number',
      default: 5,
      describe: 'seconds allowed to connect and agree keys',
    })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;

  let host = parsed.host as string | undefined;
  let word = parsed.command as string | undefined;
  // `rtt-client time`: one word that names a command is the command, not a host.
  if (word === undefined && host !== undefined && isCommand(host)) {
    word = host;
    host = undefined;
  }
  if (word !== undefined && !isCommand(word)) {
    throw new UsageError(
      `unknown command ${JSON.stringify(word)}: expected ${ONE_SHOT_COMMANDS.join(', ')}`,
    );
  }
  const command = word?.toLowerCase() as OneShotCommand | undefined;
  if (host !== undefined && parsed.ip !== undefined && host !== parsed.ip) {
    throw new UsageError(`two server addresses given: ${host} and ${parsed.ip}`);
  }
  const ip = String(parsed.ip ?? host ?? '127.0.0.1');
  if (ip.length === 0) throw new UsageError('the server address is empty');
  const port = integerIn('port', parsed.port, 1, 65535);
  const wire = parsed.wire as 'framed' | 'seed';
  if (command === undefined) {
    for (const option of ['count', 'interval'] as const) {
      if (parsed[option] !== undefined) {
        throw new UsageError(`--${option} goes with a command (time, date, temp or ping)`);
      }
    }
    if (parsed.json === true) {
      throw new UsageError('--json goes with a command (time, date, temp or ping)');
    }
  }
  if (command === 'ping' && wire === 'seed') {
    throw new UsageError('the seed wire has no ping: use time, date or temp');
  }
  const count = parsed.count === undefined ? 1 : integerIn('count', parsed.count, 0, 2 ** 31 - 1);
  const interval = parsed.interval === undefined ? 1 : seconds('interval', parsed.interval, 0);
  const timeoutMs = Math.max(1, Math.round(seconds('timeout', parsed.timeout, 0.001) * 1000));
  return {
    ip,
    port,
    wire,
    command,
    count,
    interval,
    json: parsed.json === true,
    timeoutMs,
  };
}
