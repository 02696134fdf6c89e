import { brand, type ClassOf, hasBrand } from '@rtt/cipher/error-brand';

// instanceof goes by a brand, as in every rtt package, so that errors from a second copy of
// this module match too: see @rtt/cipher/error-brand. A class added here needs its brand() line.

/**
 * Every error this package throws on purpose is a `CliError` with a string `code`, so the
 * apps branch on `err.code` rather than on message text. `name` is the class name;
 * `instanceof` also works on errors from another copy of this package.
 *
 * @example
 * ```ts
 * try {
 *   options = await parseServerArgs(programArgs(process.argv));
 * } catch (err) {
 *   if (err instanceof CliError) console.error(err.code); // e.g. 'RTT_ERR_USAGE'
 * }
 * ```
 */
export class CliError extends Error {
  readonly code: string = 'RTT_ERR_CLI';

  /**
   * @example
   * ```ts
   * new CliError('cannot read the command line', { cause: err });
   * ```
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * Whether `value` carries the brand of the class on the right of `instanceof` (this one or
   * a subclass), so that errors from the package's other copy match too.
   */
  static override [Symbol.hasInstance]<T>(this: ClassOf<T>, value: unknown): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class right of `instanceof`, often a subclass.
    return hasBrand(this, value);
  }
}
brand(CliError, 'rtt.error.CliError');

/**
 * A mistake on the command line: the apps report it as one line and exit with code 2.
 *
 * @example
 * ```ts
 * integerIn('port', 70000, 0, 65535); // throws UsageError, code 'RTT_ERR_USAGE'
 * ```
 */
export class UsageError extends CliError {
  override readonly code = 'RTT_ERR_USAGE' as const;
}
brand(UsageError, 'rtt.error.UsageError');
