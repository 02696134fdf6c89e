/**
 * Argument checks shared by every public function of `@rtt/cipher` and `@rtt/protocol`, so
 * that the same mistake always gives the same error class and the same message shape:
 * `<name> must be <what>, got <value>`. Noble style: the value first, then its name, then any
 * bounds; a wrong type is a `TypeError`, a wrong range or a non-integer a `RangeError`. Each
 * helper returns the value it checked, so a check can sit inside an expression.
 *
 * Published as the subpath `@rtt/cipher/assert` rather than from the package index: protocol
 * (which depends on this package) shares this one implementation, while the index stays the
 * cipher API alone. The helpers hold no state and throw only built-in errors, so a second
 * bundled copy of them would be harmless.
 *
 * @example
 * ```ts
 * import { assertInteger } from '@rtt/cipher/assert';
 *
 * assertInteger(1.5, 'key'); // throws RangeError: key must be an integer, got 1.5
 * assertInteger(300, 'cipher', 0, 0xff); // throws RangeError: cipher must be an integer in 0..255, got 300
 * ```
 * @module
 */

import type { ByteCipher } from './cipher-interface.ts';

/** How a value that failed a check is shown after `got`. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `${typeof value} ${String(value)}`;
}

function integerRange(min: number, max: number): string {
  if (min === Number.NEGATIVE_INFINITY && max === Number.POSITIVE_INFINITY) return 'an integer';
  if (max === Number.POSITIVE_INFINITY) return `an integer >= ${min}`;
  if (min === Number.NEGATIVE_INFINITY) return `an integer <= ${max}`;
  return `an integer in ${min}..${max}`;
}

/**
 * Returns `value` if it is an integer in `min..max` (inclusive; unbounded by default).
 * Throws `TypeError` unless it is a number, `RangeError` unless it is such an integer
 * (`NaN` and `Infinity` included).
 *
 * @example
 * ```ts
 * assertInteger(4, 'key'); // 4
 * assertInteger('4', 'key'); // throws TypeError: key must be a number, got the string "4"
 * assertInteger(-1, 'id', 0, 0xffff_ffff); // throws RangeError: id must be an integer in 0..4294967295, got -1
 * ```
 */
export function assertInteger(
  value: unknown,
  name: string,
  min: number = Number.NEGATIVE_INFINITY,
  max: number = Number.POSITIVE_INFINITY,
): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be ${integerRange(min, max)}, got ${value}`);
  }
  return value;
}

/**
 * Returns `value` if it is a `Uint8Array` (subclasses such as Node's `Buffer` included), else
 * throws `TypeError`. The second test accepts arrays from another realm (an iframe, a `vm`
 * context), where `instanceof` fails although the value is a genuine `Uint8Array`.
 *
 * @example
 * ```ts
 * assertBytes(Uint8Array.of(1), 'data'); // Uint8Array [1]
 * assertBytes([1], 'data'); // throws TypeError: data must be a Uint8Array, got an array
 * ```
 */
export function assertBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value) && value.constructor?.name === 'Uint8Array') {
    return value as Uint8Array;
  }
  throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
}

/**
 * Returns `value` if it is a string, else throws `TypeError`.
 *
 * @example
 * ```ts
 * assertString(5, 'message'); // throws TypeError: message must be a string, got number 5
 * ```
 */
export function assertString(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  }
  return value;
}

/**
 * Returns `value` if it is a function, else throws `TypeError`.
 *
 * @example
 * ```ts
 * assertFunction('TIME', 'isPlainText'); // throws TypeError: isPlainText must be a function, got the string "TIME"
 * ```
 */
export function assertFunction(value: unknown, name: string): (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
  return value as (...args: never[]) => unknown;
}

/**
 * Returns `value` if it has the {@link ByteCipher} shape (an object with `encrypt` and
 * `decrypt` methods), else throws `TypeError`. Only the shape is checked: any object that
 * transforms bytes in place will do, not only this package's ciphers.
 *
 * @example
 * ```ts
 * assertByteCipher(createCaesarCipher(4), 'cipher'); // the cipher
 * assertByteCipher({}, 'cipher'); // throws TypeError: cipher must be a ByteCipher, got an instance of Object
 * ```
 */
export function assertByteCipher(value: unknown, name: string): ByteCipher {
  const cipher = value as Partial<ByteCipher> | null;
  if (
    typeof cipher !== 'object' ||
    cipher === null ||
    typeof cipher.encrypt !== 'function' ||
    typeof cipher.decrypt !== 'function'
  ) {
    throw new TypeError(`${name} must be a ByteCipher, got ${describe(value)}`);
  }
  return value as ByteCipher;
}
