// The same pattern as every package's `errors.ts`: `instanceof` goes by a brand, so it also
// recognises an error from a second evaluation of this module (a worker thread or a test that
// imports it afresh). As undici does (lib/core/errors.js), every class puts a
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
 * Every error the server app throws on purpose is a `ServerAppError` with a string `code`, so
 * `main.ts` branches on `err.code` or the class rather than on message text. `name` is the
 * class name. (Errors on the wire come from `@rtt/protocol`; this is the app's own.)
 *
 * @example
 * ```ts
 * try {
 *   openTemperatureSource('sensor');
 * } catch (err) {
 *   if (err instanceof ServerAppError) console.error(err.code); // e.g. 'RTT_ERR_NO_SENSOR'
 * }
 * ```
 */
export class ServerAppError extends Error {
  readonly code: string = 'RTT_ERR_SERVER_APP';

  /**
   * @example
   * ```ts
   * new ServerAppError('cannot start', { cause: err });
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
brand(ServerAppError, 'rtt.error.ServerAppError');

/** `--temperature-source sensor` found no readable sensor in sysfs. */
export class NoSensorError extends ServerAppError {
  override readonly code = 'RTT_ERR_NO_SENSOR' as const;
}
brand(NoSensorError, 'rtt.error.NoSensorError');
