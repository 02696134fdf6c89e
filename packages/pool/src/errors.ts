// `instanceof` must also recognise an error thrown by another copy of this package: the ESM
// and the CommonJS build of a dual package are two modules with two sets of classes (and the
// worker entry is a build of its own), so `err instanceof PoolError` could otherwise fail. As
// undici does (lib/core/errors.js), every class puts a `Symbol.for('rtt.error.<Class>')` brand
// on its prototype, and `instanceof` looks for the brand; `Symbol.for` gives the same symbol
// in every copy. A class added here needs its `brand(...)` line.
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
 * Every error the pool throws on purpose is a `PoolError` with a string `code`, so callers
 * branch on `err.code` rather than on message text. Wrong argument types and values are
 * plain `TypeError` / `RangeError`. `name` is the class name; `instanceof` also works on
 * errors from the other (ESM or CommonJS) copy of this package.
 *
 * @example
 * ```ts
 * try {
 *   await pool.run(task);
 * } catch (err) {
 *   if (err instanceof PoolError) console.error(err.code); // e.g. 'RTT_ERR_TASK_FAILED'
 * }
 * ```
 */
export class PoolError extends Error {
  readonly code: string = 'RTT_ERR_POOL';

  /**
   * @example
   * ```ts
   * new PoolError('the pool is stuck', { cause: err });
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
brand(PoolError, 'rtt.error.PoolError');

/** The running Node.js cannot move an accepted socket to a worker thread. */
export class SocketTransferUnsupportedError extends PoolError {
  override readonly code = 'RTT_ERR_SOCKET_TRANSFER_UNSUPPORTED' as const;
}
brand(SocketTransferUnsupportedError, 'rtt.error.SocketTransferUnsupportedError');

/** `adopt()` or `run()` was called after `close()` began. */
export class PoolClosedError extends PoolError {
  override readonly code = 'RTT_ERR_POOL_CLOSED' as const;
}
brand(PoolClosedError, 'rtt.error.PoolClosedError');

/** `run()` was called on a pool that was created without a `task` module. */
export class NoTaskModuleError extends PoolError {
  override readonly code = 'RTT_ERR_NO_TASK_MODULE' as const;
}
brand(NoTaskModuleError, 'rtt.error.NoTaskModuleError');

/** A connection was handed to a pool that was created without a `session` module. */
export class NoSessionModuleError extends PoolError {
  override readonly code = 'RTT_ERR_NO_SESSION_MODULE' as const;
}
brand(NoSessionModuleError, 'rtt.error.NoSessionModuleError');

/**
 * A `session` or `task` module could not be imported (the `cause` says why), or it has no
 * function as its default export.
 */
export class BadModuleError extends PoolError {
  override readonly code = 'RTT_ERR_BAD_MODULE' as const;
}
brand(BadModuleError, 'rtt.error.BadModuleError');

/** A compute task threw (or its thread died); the original error is the `cause`. */
export class TaskFailedError extends PoolError {
  override readonly code = 'RTT_ERR_TASK_FAILED' as const;
}
brand(TaskFailedError, 'rtt.error.TaskFailedError');
