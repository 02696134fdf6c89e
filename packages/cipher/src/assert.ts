/**
 * Argument checks shared by every public function, so that the same mistake always gives the
 * same error class and the same message shape (`key must be an integer, got 1.5`).
 */

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** Throws `TypeError` unless `value` is a number, `RangeError` unless it is an integer. */
export function assertInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw new RangeError(`${name} must be an integer, got ${value}`);
  }
}

/** Like {@link assertInteger}, and `RangeError` unless `0 <= value <= Number.MAX_SAFE_INTEGER`. */
export function assertNonNegativeSafeInteger(
  value: unknown,
  name: string,
): asserts value is number {
  assertInteger(value, name);
  if (value < 0 || !Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

/**
 * Throws `TypeError` unless `value` is a `Uint8Array` (subclasses such as Node's `Buffer`
 * included). The second test accepts arrays from another realm (an iframe, a `vm` context),
 * where `instanceof` fails although the value is a genuine `Uint8Array`.
 */
export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (value instanceof Uint8Array) return;
  if (ArrayBuffer.isView(value) && value.constructor?.name === 'Uint8Array') return;
  throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
}

/** Throws `TypeError` unless `value` is a function. */
export function assertFunction(
  value: unknown,
  name: string,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
}
