import { answeredHelpOrVersion, commandLine, integerIn, UsageError } from '@rtt/cli-support';
import {
  defaultKnownServersFile,
  parseServerAddress,
  readFingerprint,
  serverKey,
} from './known-servers.ts';

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
  /** TLS 1.3 under the framed protocol, the server checked as one of the three below. */
  tls: boolean;
  /** Trust on first use: where known servers' fingerprints are kept. */
  knownServers: string;
  /** Whether `knownServers` came from `--known-servers` (messages must then name it). */
  knownServersGiven: boolean;
  /** `--fingerprint`: the one certificate accepted, instead of the known-servers file. */
  fingerprint: string | undefined;
  /** `--ca`: a CA file to verify the server against, with Node's hostname checks. */
  ca: string | undefined;
  /** `--keylog` or `SSLKEYLOGFILE` (with `--tls`): where TLS secrets go, NSS key log format. */
  keylog: string | undefined;
  /** `--forget HOST:PORT`: the known-servers key to remove, instead of connecting. */
  forget: string | undefined;
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

// One string option's value: yargs gives an array for a repeated option, '' for a bare one.
function text(name: string, value: unknown, what = 'a file name'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new UsageError(`--${name} needs ${what}, once`);
  }
  return value;
}

/**
 * Parses the client's command line: `-ip` (one option, as in the seed) or the host as a
 * positional argument; `-p`; `--wire`; and, for scripts, a command (`time`, `date`, `temp`,
 * `ping`) with `--count`, `--interval` and `--json`. A single positional word that is a
 * command is the command, not a host. `--tls` with `--known-servers`, `--fingerprint`, `--ca`
 * and `--keylog` (`SSLKEYLOGFILE` from `env` by default); `--forget HOST:PORT` instead of
 * connecting. Resolves with `undefined` when `--help` or `--version` was answered.
 *
 * @example
 * await parseClientArgs(['-ip', '10.0.0.5', '-p', '8000']); // the menu, on 10.0.0.5:8000
 * await parseClientArgs(['10.0.0.5', 'time', '--count', '3']); // three TIMEs, then a summary
 * await parseClientArgs(['time', '--tls']); // TLS, the server trusted on first use
 */
export async function parseClientArgs(
  args: readonly string[],
  version = '0.1.0',
  env: NodeJS.ProcessEnv = process.env,
): Promise<ClientOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'rtt-client',
    // Lines broken by hand within 80 columns. Examples go in yargs' examples, not here: yargs
    // trims the indent of usage lines and wraps a long one to column 0, which broke the columns.
    usage: [
      '$0 [host] [command] [options]',
      '',
      'The rtt client: asks the server for its time, date and temperature, with',
      'round-trip times. With no command, the interactive menu; with one (time, date,',
      'temp or ping), its answer.',
    ].join('\n'),
    version,
  })
    .example('$0 time', 'one answer, then exit')
    .example('$0 10.0.0.5 ping --count 0', 'every second until Ctrl+C, then a summary')
    .example('$0 temp --json', 'one JSON object: {"command":"TEMP",...}')
    .example('$0 time --tls', 'TLS 1.3, the server trusted on first use')
    .example('$0 --forget 10.0.0.5:7777', "forget a server's replaced certificate")
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
    .option('tls', {
      type: 'boolean',
      default: false,
      describe: 'TLS 1.3 (server started with --tls); trusts the server on first use',
    })
    .option('known-servers', {
      type: 'string',
      describe: 'with --tls: the trust-on-first-use file (default ~/.config/rtt/known_servers)',
    })
    .option('fingerprint', {
      type: 'string',
      describe: 'with --tls: accept only this certificate (sha256:...)',
    })
    .option('ca', {
      type: 'string',
      describe: 'with --tls: verify the server against this CA file (PEM), hostname included',
    })
    .option('keylog', {
      type: 'string',
      describe: 'with --tls: append TLS secrets to this file (default $SSLKEYLOGFILE)',
    })
    .option('forget', {
      type: 'string',
      describe: 'remove HOST:PORT from the known-servers file, then exit',
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

  const tls = parsed.tls === true;
  const knownServersOption = text('known-servers', parsed['known-servers']);
  const fingerprint = text('fingerprint', parsed.fingerprint, 'sha256:...');
  const ca = text('ca', parsed.ca);
  const keylogOption = text('keylog', parsed.keylog);
  const forgetText = text('forget', parsed.forget, 'HOST:PORT');
  let forget: string | undefined;
  if (forgetText !== undefined) {
    if (command !== undefined || tls || fingerprint !== undefined || ca !== undefined) {
      throw new UsageError('--forget runs alone: --forget HOST:PORT [--known-servers FILE]');
    }
    const address = parseServerAddress(forgetText, port);
    if (address === undefined) {
      throw new UsageError(`invalid --forget ${JSON.stringify(forgetText)}: expected HOST:PORT`);
    }
    forget = serverKey(address.host, address.port);
  } else if (!tls) {
    const given = { 'known-servers': knownServersOption, fingerprint, ca, keylog: keylogOption };
    for (const [name, value] of Object.entries(given)) {
      if (value !== undefined) throw new UsageError(`--${name} goes with --tls`);
    }
  }
  if (tls && wire === 'seed') {
    // The original server speaks plain TCP only; TLS is for our framed protocol.
    throw new UsageError('--tls goes with the framed wire, not --wire seed');
  }
  if (fingerprint !== undefined && ca !== undefined) {
    throw new UsageError('--fingerprint and --ca are two ways to check the server: give one');
  }
  if (knownServersOption !== undefined && (fingerprint !== undefined || ca !== undefined)) {
    throw new UsageError(
      `--known-servers is for trust on first use, not used with --${ca === undefined ? 'fingerprint' : 'ca'}`,
    );
  }
  // In the one form the server prints, so that it compares as a string (`SHA256:` works too).
  const pinned = fingerprint === undefined ? undefined : readFingerprint(fingerprint);
  if (fingerprint !== undefined && pinned === undefined) {
    throw new UsageError(
      `invalid --fingerprint ${JSON.stringify(fingerprint)}: expected sha256: and 43 base64 characters, as the server prints it`,
    );
  }
  // SSLKEYLOGFILE is a convention of many programs: honoured only when we speak TLS at all.
  const keylog = keylogOption ?? (tls && env.SSLKEYLOGFILE ? env.SSLKEYLOGFILE : undefined);
  return {
    ip,
    port,
    wire,
    command,
    count,
    interval,
    json: parsed.json === true,
    timeoutMs,
    tls,
    knownServers: knownServersOption ?? defaultKnownServersFile(env),
    knownServersGiven: knownServersOption !== undefined,
    fingerprint: pinned,
    ca,
    keylog,
    forget,
  };
}
