// `instanceof` must also recognise an error thrown by another copy of this package: each app
// resolves `@rtt/cli-support` on its own, and a bundler or a second install can load the
// module twice, so `err instanceof UsageError` could otherwise fail. As undici does
// (lib/core/errors.js), every class puts a `Symbol.for('rtt.error.<Class>')` brand on its
// prototype, and `instanceof` looks for the brand; `Symbol.for` gives the same symbol in every
// copy. A class added here needs its `brand(...)` line.
const brands = new WeakMap<object, symbol>();

/** A class whose instances are `T`. */
type ClassOf<T> = abstract new (...args: never[]) => T;

/** Puts the brand `Symbol.for(key)` on `ErrorClass` and its instances. */
function brand(ErrorClass: ClassOf<Error>, key: string): void {
  const symbol = Symbol.for(key);
  brands.set(ErrorClass, symbol);
  Object.defineProperty(ErrorClass.prototype, symbol, { value: true });
}

/** `value instanceof ErrorClass`, by brand. */
function hasBrand(ErrorClass: object, value: unknown): boolean {
  const symbol = brands.get(ErrorClass);
  // A subclass declared outside this file has no brand of its own: the prototype chain decides.
  if (symbol === undefined) return Function.prototype[Symbol.hasInstance].call(ErrorClass, value);
  return typeof value === 'object' && value !== null && symbol in value;
}

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
