import { answeredHelpOrVersion, commandLine, integerIn, UsageError } from '@rtt/cli-support';

export interface ClientOptions {
  ip: string;
  port: number;
  wire: 'framed' | 'seed';
}

/**
 * Parses the client's command line: `-ip` (one option, as in the seed), or the host as a
 * positional argument; `-p`; `--wire`. Resolves with `undefined` when `--help` or
 * `--version` was answered.
 *
 * @example
 * await parseClientArgs(['-ip', '10.0.0.5', '-p', '8000']); // { ip: '10.0.0.5', port: 8000, wire: 'framed' }
 */
export async function parseClientArgs(
  args: readonly string[],
  version = '0.1.0',
): Promise<ClientOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'client',
    usage:
      '$0 [host] [options]\n\nThe rtt client: asks the server for its time, date and temperature, with round-trip times.',
    version,
  })
    .command('$0 [host]', false, (y) =>
      y.positional('host', { type: 'string', describe: 'server address (same as -ip)' }),
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
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;

  const positional = parsed.host as string | undefined;
  if (positional !== undefined && parsed.ip !== undefined && positional !== parsed.ip) {
    throw new UsageError(`two server addresses given: ${positional} and ${parsed.ip}`);
  }
  const ip = String(parsed.ip ?? positional ?? '127.0.0.1');
  if (ip.length === 0) throw new UsageError('the server address is empty');
  const port = integerIn('port', parsed.port, 1, 65535);
  return { ip, port, wire: parsed.wire as 'framed' | 'seed' };
}
