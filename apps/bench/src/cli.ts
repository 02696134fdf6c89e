import { readFileSync } from 'node:fs';
import { answeredHelpOrVersion, commandLine, integerIn, UsageError } from '@rtt/cli-support';

/** The commands the bench can send. PING exists only on the framed protocol. */
export const BENCH_COMMANDS = ['TIME', 'DATE', 'TEMP', 'PING'] as const;
export type BenchCommand = (typeof BENCH_COMMANDS)[number];

/** The two wires: ours (framed, ids, pipelining) and the seed's (one request at a time). */
export const BENCH_WIRES = ['framed', 'seed'] as const;
export type BenchWire = (typeof BENCH_WIRES)[number];

export interface BenchOptions {
  ip: string;
  port: number;
  connections: number;
  /** Total requests to measure; ignored when `durationMs` is set. */
  requests: number;
  /** Run for this long instead of a request count. */
  durationMs: number | undefined;
  pipeline: number;
  command: BenchCommand;
  wire: BenchWire;
  threads: number;
  /** Requests sent (over all connections) before measuring starts. */
  warmup: number;
  /** `--hold N`: open N connections at once, then one request on each. */
  hold: number | undefined;
  /** Connections being opened at the same time (connect plus hello). */
  connectBatch: number;
  /** Give up on a connect, or on a run that makes no progress, after this long. */
  timeoutMs: number;
  output: 'text' | 'json' | 'csv';
  /** `--tls`: TLS 1.3 around the framed wire (cipher NONE inside), certificate not checked. */
  tls: boolean;
  /**
   * `--handshakes`: each connection connects, agrees keys, sends one request and closes, over
   * and over; what is measured is handshakes (`requests` counts them), not requests.
   */
  handshakes: boolean;
}

function positiveSeconds(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new UsageError(`invalid ${name} ${String(value)}: expected a positive number of seconds`);
  }
  return Math.round(number * 1000);
}

/**
 * The soft limit on open files of this process (Linux `/proc/self/limits`), or `undefined`
 * where it cannot be read. Every connection is one descriptor.
 *
 * @example
 * openFileLimit(); // 20000
 */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
    const number = Number(soft);
    return Number.isInteger(number) && number > 0 ? number : undefined;
  } catch {
    return undefined;
  }
}

// Descriptors the process needs besides its sockets: stdio, the event loop, worker threads.
const SPARE_DESCRIPTORS = 64;

/**
 * Parses the bench's command line, redis-benchmark style. `-ip` is one option (as in the
 * seed), not `-i -p`. Resolves with `undefined` when `--help` or `--version` was answered.
 *
 * @throws {UsageError} for anything wrong, with one line that says what
 * @example
 * await parseBenchArgs(['-ip', '127.0.0.1', '-p', '7777', '-c', '50', '-n', '100000']);
 * // { ip: '127.0.0.1', port: 7777, connections: 50, requests: 100000, command: 'PING', ... }
 */
export async function parseBenchArgs(
  args: readonly string[],
  version = '0.1.0',
  fileLimit: number | undefined = openFileLimit(),
): Promise<BenchOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'rtt-bench',
    usage:
      '$0 [options]\n\nLoad generator for the rtt server: many connections, many requests, throughput and latency percentiles.',
    version,
  })
    .option('ip', {
      alias: ['host'],
      type: 'string',
      default: '127.0.0.1',
      describe: 'server address (-ip works too)',
    })
    .option('port', { alias: 'p', type: 'number', default: 7777, describe: 'server port' })
    .option('connections', {
      alias: 'c',
      type: 'number',
      default: 50,
      describe: 'parallel connections',
    })
    .option('requests', {
      alias: 'n',
      type: 'number',
      default: 100_000,
      describe: 'total requests to measure',
    })
    .option('duration', {
      type: 'number',
      describe: 'run for this many seconds instead of -n requests',
    })
    .option('pipeline', {
      alias: 'P',
      type: 'number',
      default: 1,
      describe: 'requests in flight per connection (framed protocol only)',
    })
    .option('command', {
      type: 'string',
      describe: 'TIME, DATE, TEMP or PING (default PING; TIME on the seed wire)',
    })
    .option('wire', {
      choices: BENCH_WIRES,
      default: 'framed' as BenchWire,
      describe: 'framed: our protocol; seed: the original one, one request at a time',
    })
    .option('threads', {
      type: 'number',
      default: 1,
      describe: 'load-generator threads, each driving its share of the connections',
    })
    .option('warmup', {
      type: 'number',
      default: 0,
      describe: 'requests sent before measuring starts',
    })
    .option('hold', {
      type: 'number',
      describe: 'open N connections, keep them all open, then send one request on each',
    })
    .option('connect-batch', {
      type: 'number',
      default: 200,
      describe: 'connections opened at the same time',
    })
    .option('timeout', {
      type: 'number',
      default: 10,
      describe: 'seconds before a connect, or a run making no progress, is given up',
    })
    .option('tls', {
      type: 'boolean',
      default: false,
      describe:
        'TLS 1.3 around the framed wire (cipher NONE inside; the certificate is not checked)',
    })
    .option('handshakes', {
      type: 'boolean',
      default: false,
      describe: 'measure handshakes: connect, hello, one request, close, over and over',
    })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON line' })
    .option('csv', { type: 'boolean', default: false, describe: 'print CSV' })
    .parse();

  if (answeredHelpOrVersion(parsed)) return undefined;
  if (parsed._.length > 0) throw new UsageError(`unexpected argument ${String(parsed._[0])}`);
  const ip = String(parsed.ip);
  if (ip.length === 0) throw new UsageError('the server address is empty');
  if (parsed.json && parsed.csv) throw new UsageError('choose one of --json and --csv');

  const wire = parsed.wire as BenchWire;
  const commandText = parsed.command ?? (wire === 'seed' ? 'TIME' : 'PING');
  const command = commandText.trim().toUpperCase() as BenchCommand;
  if (!BENCH_COMMANDS.includes(command)) {
    throw new UsageError(`invalid command ${commandText}: expected TIME, DATE, TEMP or PING`);
  }
  if (wire === 'seed' && command === 'PING') {
    throw new UsageError('the seed wire has no PING: use --command TIME, DATE or TEMP');
  }
  const pipeline = integerIn('pipeline', parsed.pipeline, 1, 1024);
  if (wire === 'seed' && pipeline > 1) {
    throw new UsageError('the seed wire carries one request at a time: --pipeline must be 1');
  }
  const connections = integerIn('connection count', parsed.connections, 1, 100_000);
  const hold = parsed.hold === undefined ? undefined : integerIn('hold count', parsed.hold, 1, 1e6);
  const sockets = hold ?? connections;
  if (fileLimit !== undefined && sockets + SPARE_DESCRIPTORS > fileLimit) {
    throw new UsageError(
      `${sockets} connections need more open files than this process may have (${fileLimit}): raise it with ulimit -n`,
    );
  }
  const threads = integerIn('thread count', parsed.threads, 1, 256);
  const tls = parsed.tls === true;
  const handshakes = parsed.handshakes === true;
  if (tls && wire === 'seed') throw new UsageError('the seed wire never runs over TLS: drop --tls');
  if (handshakes && hold !== undefined) {
    throw new UsageError('choose one of --handshakes and --hold');
  }
  // One request per connection: a pipeline would have nothing to fill.
  if (handshakes && pipeline > 1)
    throw new UsageError('--handshakes sends one request per connection: --pipeline must be 1');
  // The handshake loop runs on the main thread (see handshakes.ts).
  if (handshakes && threads > 1)
    throw new UsageError('--handshakes runs on one thread: drop --threads');
  return {
    ip,
    port: integerIn('port', parsed.port, 1, 65535),
    connections,
    requests: integerIn('request count', parsed.requests, 1, Number.MAX_SAFE_INTEGER),
    durationMs:
      parsed.duration === undefined ? undefined : positiveSeconds('duration', parsed.duration),
    pipeline,
    command,
    wire,
    // More threads than connections would leave some with nothing to drive.
    threads: Math.min(threads, connections),
    warmup: integerIn('warmup count', parsed.warmup, 0, Number.MAX_SAFE_INTEGER),
    hold,
    connectBatch: integerIn('connect batch', parsed['connect-batch'], 1, 100_000),
    timeoutMs: positiveSeconds('timeout', parsed.timeout),
    output: parsed.json ? 'json' : parsed.csv ? 'csv' : 'text',
    tls,
    handshakes,
  };
}
