import { isIP } from 'node:net';
import { answeredHelpOrVersion, commandLine, integerIn, UsageError } from '@rtt/cli-support';
import { defaultStateDir } from './certificate.ts';
import { defaultMaxConnections, openFileLimit } from './limits.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { proxyAllowed } from './proxy-protocol.ts';
import { TEMPERATURE_SOURCES, type TemperatureSourceName } from './temperature.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ServerOptions {
  ip: string;
  port: number;
  threads: number;
  handshakeTimeout: number;
  closeTimeout: number;
  /** Milliseconds a client with agreed keys may send nothing; 0: no limit. */
  idleTimeout: number;
  /** Bytes of answers a client may leave unread before the server stops reading it. */
  maxUnsentBytes: number;
  /** Connections served at once; past it new clients are turned away. */
  maxConnections: number;
  temperatureSource: TemperatureSourceName;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  logTimestamps: boolean;
  /** Where log lines go; `undefined`: stdout. */
  logFile: string | undefined;
  /** Serve TLS 1.3 to clients that start with a TLS record, on the same port. */
  tls: boolean;
  /** `--cert` and `--key`, given together; `undefined`: the state directory's certificate. */
  certificate: { cert: string; key: string } | undefined;
  /** Where the server keeps its own certificate (and key) between starts. */
  stateDir: string;
  /** Serve hellos that ask for no cipher over plain TCP (refused by default). */
  allowPlaintext: boolean;
  /** Append TLS secrets here, NSS key log format, for Wireshark; `undefined`: none. */
  keylog: string | undefined;
  /** Read a PROXY protocol header (v1 or v2) before each connection's first byte. */
  proxyProtocol: boolean;
  /** `--proxy-from`: the addresses (CIDR) a header is taken from; `undefined`: any. */
  proxyFrom: string[] | undefined;
  /** `--metrics-port` and `--metrics-host`; `undefined`: no metrics endpoint. */
  metrics: { host: string; port: number } | undefined;
}

/**
 * Parses the server's command line. `-ip` is one option (as in the seed), not `-i -p`.
 * Resolves with `undefined` when `--help` or `--version` was answered.
 *
 * @example
 * parseServerArgs(['-ip', '127.0.0.1', '-p', '8000', '-t', '4']);
 * // { ip: '127.0.0.1', port: 8000, threads: 4, ... }
 */
export async function parseServerArgs(
  args: readonly string[],
  version = '0.1.0',
  env: Record<string, string | undefined> = process.env,
): Promise<ServerOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'rtt-server',
    usage:
      '$0 [options]\n\nThe rtt server: TIME, DATE, TEMP and PING, Caesar-encrypted, one pool task per connection.',
    version,
  })
    .option('ip', {
      alias: ['host'],
      type: 'string',
      default: '0.0.0.0',
      describe: 'address to bind (-ip works too)',
    })
    .option('port', { alias: 'p', type: 'number', default: 7777, describe: 'port to bind' })
    .option('threads', {
      alias: 't',
      type: 'number',
      default: 32,
      describe: 'most pool threads (one per core but one start first); 0 serves on the main thread',
    })
    .option('handshake-timeout', {
      type: 'number',
      default: 10,
      describe: 'seconds a client may take to send its key',
    })
    .option('close-timeout', {
      type: 'number',
      default: 5,
      describe: 'seconds open sessions get to finish on Ctrl+C',
    })
    .option('idle-timeout', {
      type: 'number',
      default: 300,
      describe: 'seconds a client may send nothing once its keys are agreed (0: no limit)',
    })
    .option('max-output', {
      type: 'number',
      default: 256,
      describe: 'KiB of answers a client may leave unread before the server stops reading it',
    })
    .option('max-connections', {
      type: 'number',
      describe:
        'clients served at once; more are turned away (default: the open-file limit less a reserve)',
    })
    .option('temperature-source', {
      choices: TEMPERATURE_SOURCES,
      default: 'auto' as TemperatureSourceName,
      describe: 'where TEMP readings come from',
    })
    .option('log-level', {
      choices: Object.keys(LOG_LEVELS),
      default: 'info',
      describe: 'least severe level logged',
    })
    .option('log-format', {
      choices: ['text', 'json'],
      default: 'text',
      describe: 'seed-style lines or JSON lines',
    })
    .option('log-timestamps', {
      type: 'boolean',
      default: false,
      describe: 'start each text line with its ISO 8601 time (JSON lines always have one)',
    })
    .option('log-file', {
      type: 'string',
      describe: 'append log lines to this file instead of stdout',
    })
    .option('tls', {
      type: 'boolean',
      default: false,
      describe: 'also serve TLS 1.3 on the same port (clients that start with a TLS record)',
    })
    .option('cert', {
      type: 'string',
      describe: 'PEM certificate (chain) for --tls, with --key (default: a self-signed one)',
    })
    .option('key', { type: 'string', describe: 'PEM private key of --cert' })
    .option('state-dir', {
      type: 'string',
      describe:
        'where the self-signed certificate is kept (default: $XDG_STATE_HOME/rtt-server, else ~/.local/state/rtt-server)',
    })
    .option('allow-plaintext', {
      type: 'boolean',
      default: false,
      describe: 'serve hellos that ask for no cipher over plain TCP (for experiments)',
    })
    .option('keylog', {
      type: 'string',
      describe:
        'with --tls: append TLS secrets to FILE for Wireshark (default: $SSLKEYLOGFILE when set)',
    })
    .option('proxy-protocol', {
      type: 'boolean',
      default: false,
      describe:
        'expect a PROXY protocol header (v1 or v2, as HAProxy send-proxy-v2 sends) on every connection, and log the client it names',
    })
    .option('proxy-from', {
      type: 'string',
      describe:
        'with --proxy-protocol: take headers only from these addresses (CIDR,...); others are closed',
    })
    .option('metrics-port', {
      type: 'number',
      describe: 'serve /metrics (Prometheus), /healthz and /readyz over HTTP on this port',
    })
    .option('metrics-host', {
      type: 'string',
      describe: 'address for --metrics-port (default: 127.0.0.1)',
    })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;

  if (parsed._.length > 0) throw new UsageError(`unexpected argument ${String(parsed._[0])}`);
  const ip = String(parsed.ip);
  if (isIP(ip) === 0)
    throw new UsageError(`invalid address ${ip}: expected an IPv4 or IPv6 address`);
  const seconds = (name: string, value: unknown) => {
    const number = Number(value);
    // Node's timers hold at most 2^31 - 1 ms (about 24.8 days); past that they fire at once.
    if (!Number.isFinite(number) || number <= 0 || number * 1000 > MAX_TIMER_MS) {
      throw new UsageError(
        `invalid ${name} ${String(value)}: expected a positive number of seconds, at most ${Math.floor(MAX_TIMER_MS / 1000)}`,
      );
    }
    return Math.max(1, Math.round(number * 1000));
  };
  return {
    ip,
    port: integerIn('port', parsed.port, 0, 65535),
    threads: integerIn('thread count', parsed.threads, 0, 1024),
    handshakeTimeout: seconds('handshake timeout', parsed['handshake-timeout']),
    closeTimeout: seconds('close timeout', parsed['close-timeout']),
    idleTimeout:
      Number(parsed['idle-timeout']) === 0 ? 0 : seconds('idle timeout', parsed['idle-timeout']),
    maxUnsentBytes: integerIn('output limit (KiB)', parsed['max-output'], 1, 1024 * 1024) * 1024,
    maxConnections:
      parsed['max-connections'] === undefined
        ? defaultMaxConnections(openFileLimit())
        : integerIn('connection limit', parsed['max-connections'], 1, 10_000_000),
    temperatureSource: parsed['temperature-source'] as TemperatureSourceName,
    logLevel: parsed['log-level'] as LogLevel,
    logFormat: parsed['log-format'] as 'text' | 'json',
    logTimestamps: Boolean(parsed['log-timestamps']),
    logFile: fileName('log file', 'log-file', parsed['log-file']),
    ...tlsOptions(parsed, env),
    ...deploymentOptions(parsed),
  };
}

type DeploymentOptions = Pick<ServerOptions, 'proxyProtocol' | 'proxyFrom' | 'metrics'>;

function deploymentOptions(parsed: Record<string, unknown>): DeploymentOptions {
  const proxyProtocol = parsed['proxy-protocol'] === true;
  const from = parsed['proxy-from'];
  let proxyFrom: string[] | undefined;
  if (from !== undefined) {
    if (typeof from !== 'string' || from.trim() === '') {
      throw new UsageError('invalid --proxy-from: expected addresses, as CIDR,CIDR,...');
    }
    if (!proxyProtocol) throw new UsageError('--proxy-from needs --proxy-protocol');
    proxyFrom = from.split(',').map((entry) => entry.trim());
    // The list is checked here, so that a typo is a usage error rather than a closed door.
    try {
      proxyAllowed(proxyFrom);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  // yargs gives a number option with no value as undefined: `--metrics-port` alone must not
  // quietly mean "no metrics".
  if ('metrics-port' in parsed && parsed['metrics-port'] === undefined) {
    throw new UsageError('--metrics-port needs a port number (0: any free port)');
  }
  const host = parsed['metrics-host'];
  if (host !== undefined && (typeof host !== 'string' || isIP(host) === 0)) {
    throw new UsageError(
      `invalid --metrics-host ${String(host)}: expected an IPv4 or IPv6 address`,
    );
  }
  if (host !== undefined && parsed['metrics-port'] === undefined) {
    throw new UsageError('--metrics-host needs --metrics-port');
  }
  const metrics =
    parsed['metrics-port'] === undefined
      ? undefined
      : {
          host: (host as string | undefined) ?? '127.0.0.1',
          port: integerIn('metrics port', parsed['metrics-port'], 0, 65535),
        };
  return { proxyProtocol, proxyFrom, metrics };
}

type TlsOptions = Pick<
  ServerOptions,
  'tls' | 'certificate' | 'stateDir' | 'allowPlaintext' | 'keylog'
>;

function tlsOptions(
  parsed: Record<string, unknown>,
  env: Record<string, string | undefined>,
): TlsOptions {
  const tls = parsed.tls === true;
  const cert = fileName('certificate', 'cert', parsed.cert);
  const key = fileName('key', 'key', parsed.key);
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(
      cert === undefined ? '--key needs --cert (give both)' : '--cert needs --key (give both)',
    );
  }
  // Options that only mean something with TLS are a mistake without it: the user expects
  // TLS and would get the teaching cipher.
  if (!tls && cert !== undefined) throw new UsageError('--cert and --key need --tls');
  const keylogOption = fileName('key log file', 'keylog', parsed.keylog);
  if (!tls && keylogOption !== undefined) throw new UsageError('--keylog needs --tls');
  const stateDir = fileName('state directory', 'state-dir', parsed['state-dir'], 'DIR');
  if (!tls && stateDir !== undefined) throw new UsageError('--state-dir needs --tls');
  // SSLKEYLOGFILE is set for every program in a shell (browsers, curl): without --tls the
  // server has no secrets to write, and says nothing.
  const keylog = tls ? (keylogOption ?? (env.SSLKEYLOGFILE || undefined)) : undefined;
  return {
    tls,
    certificate: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    stateDir: stateDir ?? defaultStateDir(env),
    allowPlaintext: parsed['allow-plaintext'] === true,
    keylog,
  };
}

function fileName(
  what: string,
  option: string,
  value: unknown,
  kind: 'FILE' | 'DIR' = 'FILE',
): string | undefined {
  if (value === undefined) return undefined;
  // yargs gives an array when the option is repeated, and '' for a bare option.
  if (typeof value !== 'string' || value === '') {
    const noun = kind === 'FILE' ? 'file' : 'folder';
    throw new UsageError(`invalid ${what}: expected one ${noun} name (--${option} ${kind})`);
  }
  return value;
}
