import yargs, { type Argv } from 'yargs';
import { UsageError } from './errors.ts';

export interface CommandLineOptions {
  /** The program's name in usage and errors. */
  name: string;
  /** The usage text, `$0` standing for the name. */
  usage: string;
  /** The version `--version` prints; `false` for no `--version`. */
  version: string | false;
}

/**
 * A yargs parser set up the same way for every rtt program: `-ip` read as one option (as in
 * the seed) rather than `-i -p`, `--help`/`-h`, unknown options refused, and every mistake
 * thrown as one-line `UsageError` instead of yargs printing and exiting. Add the options, then
 * `await ....parse()`, then return early when {@link answeredHelpOrVersion} says so.
 *
 * @example
 * const parsed = await commandLine(args, { name: 'server', usage: '$0 [options]', version: '0.1.0' })
 *   .option('port', { alias: 'p', type: 'number', default: 7777 })
 *   .parse();
 * if (answeredHelpOrVersion(parsed)) return 0;
 */
export function commandLine(args: readonly string[], options: CommandLineOptions): Argv {
  const parser = yargs([...args])
    .scriptName(options.name)
    .usage(options.usage)
    .parserConfiguration({ 'short-option-groups': false });
  // yargs takes the version text or `false`, through two overloads.
  if (options.version === false) parser.version(false);
  else parser.version(options.version);
  return (
    parser
      .help()
      .alias('help', 'h')
      .strict()
      // The program decides how to exit after --help and --version.
      .exitProcess(false)
      .fail((message, err) => {
        // Some of yargs' messages span lines ("Invalid values:\n  Argument: ..."): one line here.
        throw err ?? new UsageError(message.replace(/\s*\n\s*/g, ' '));
      })
  );
}

/**
 * Whether yargs has just printed the help or the version, so the program has nothing to run.
 *
 * @example
 * if (answeredHelpOrVersion(parsed)) return 0;
 */
export function answeredHelpOrVersion(parsed: Record<string, unknown>): boolean {
  return parsed.help === true || parsed.version === true;
}
