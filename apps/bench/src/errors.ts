// The same pattern as every package's `errors.ts`: `instanceof` goes by a brand, so it also
// recognises an error from a second evaluation of this module (a load worker thread or a test
// that imports it afresh). As undici does (lib/core/errors.js), every class puts a
// `Symbol.for('rtt.error.<Class>')` brand on its prototype, and `instanceof` looks for the
// brand; `Symbol.for` gives the same symbol in every copy. A class added here needs its
// `brand(...)` line.
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
 * Every error the bench throws on purpose is a `BenchError` with a string `code`, so callers
 * branch on `err.code` or the class rather than on message text. `name` is the class name.
 * (Command-line mistakes are `@rtt/cli-support`'s `UsageError`.)
 *
 * @example
 * ```ts
 * try {
 *   await runLoad(options);
 * } catch (err) {
 *   if (err instanceof BenchError) console.error(err.code); // e.g. 'ECONNREFUSED'
 * }
 * ```
 */
export class BenchError extends Error {
  readonly code: string = 'RTT_ERR_BENCH';

  /**
   * @example
   * ```ts
   * new BenchError('the run went wrong', { cause: err });
   * ```
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * Whether `value` carries the brand of the class on the right of `instanceof` (this one or
   * a subclass), so that errors from another evaluation of this module match too.
   */
  static override [Symbol.hasInstance]<T>(this: ClassOf<T>, value: unknown): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class right of `instanceof`, often a subclass.
    return hasBrand(this, value);
  }
}
brand(BenchError, 'rtt.error.BenchError');

/**
 * A load run that could not start: the first thread's reason, with its code. Unlike the other
 * classes its `code` is not fixed: it is the code the failing connection reported (e.g.
 * `'ECONNREFUSED'`, `'RTT_ERR_CONNECT'`), because that is what the user needs to see.
 *
 * @example
 * ```ts
 * new LoadStartError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:7777');
 * ```
 */
export class LoadStartError extends BenchError {
  override readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
brand(LoadStartError, 'rtt.error.LoadStartError');
