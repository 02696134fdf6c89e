import { brand, type ClassOf, hasBrand } from '@rtt/cipher/error-brand';

// instanceof goes by a brand, as in every rtt package, so that errors from a second copy of
// this module match too: see @rtt/cipher/error-brand. A class added here needs its brand() line.

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

/** `--cert`/`--key` (or the state directory's files) are unreadable, not PEM, or do not match. */
export class CertificateError extends ServerAppError {
  override readonly code = 'RTT_ERR_CERTIFICATE' as const;
}
brand(CertificateError, 'rtt.error.CertificateError');

/** The state directory (`--state-dir`) cannot be created, or its files cannot be written. */
export class StateDirError extends ServerAppError {
  override readonly code = 'RTT_ERR_STATE_DIR' as const;
}
brand(StateDirError, 'rtt.error.StateDirError');
