import { UsageError } from './errors.ts';

/**
 * The program's own arguments. pnpm passes a literal `--` through to the program
 * (`pnpm --filter server start -- -p 7777`), and yargs would treat everything after it as
 * positional, so a leading `--` is dropped.
 *
 * @example
 * programArgs(['node', 'main.ts', '--', '-p', '7777']); // ['-p', '7777']
 */
export function programArgs(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  return args[0] === '--' ? args.slice(1) : args;
}

/**
 * An integer option within bounds, or a `UsageError` that names it.
 *
 * @example
 * integerIn('port', 70000, 0, 65535); // throws UsageError: invalid port 70000: expected an integer from 0 to 65535
 */
export function integerIn(name: string, value: unknown, min: number, max: number): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    // yargs turns a word given to a number option into NaN; the word itself is gone.
    const shown = Number.isNaN(number) ? '' : ` ${String(value)}`;
    throw new UsageError(`invalid ${name}${shown}: expected an integer from ${min} to ${max}`);
  }
  return number;
}
