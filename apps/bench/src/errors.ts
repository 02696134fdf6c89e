import { brand, type ClassOf, hasBrand } from '@rtt/cipher/error-brand';

// instanceof goes by a brand, as in every rtt package, so that errors from a second copy of
// this module match too: see @rtt/cipher/error-brand. A class added here needs its brand() line.

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

/**
 * The TLS baseline found no certificate where the real server keeps its own.
 *
 * @example
 * ```ts
 * new NoCertificateError('/tmp/rtt-state', 'ENOENT');
 * ```
 */
export class NoCertificateError extends BenchError {
  override readonly code = 'RTT_ERR_BENCH_NO_CERTIFICATE';

  constructor(stateDir: string, reason: string, options?: ErrorOptions) {
    super(
      `no certificate in ${stateDir} (${reason}): start \`rtt-server --tls --state-dir ${stateDir}\` once to make it`,
      options,
    );
  }
}
brand(NoCertificateError, 'rtt.error.NoCertificateError');
