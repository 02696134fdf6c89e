// Argument checks shared by every public entry point, so each reports the same way:
// wrong type -> TypeError, wrong range -> RangeError, message names the argument.

/** Throws unless `value` is an integer in `min..max` (inclusive). */
export function assertInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a byte value (0..255). */
export function assertU8(name: string, value: unknown): number {
  return assertInteger(name, value, 0, 0xff);
}

/** Throws unless `value` is a Uint8Array (a Node Buffer is one). */
export function assertBytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a string. */
export function assertString(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is null or has the FrameCipher shape. */
export function assertCipher(name: string, value: unknown): void {
  if (value === null || value === undefined) return;
  const c = value as { encrypt?: unknown; decrypt?: unknown };
  if (
    typeof value !== 'object' ||
    typeof c.encrypt !== 'function' ||
    typeof c.decrypt !== 'function'
  ) {
    throw new TypeError(`${name} must be a FrameCipher or null, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `${typeof value} ${String(value)}`;
}
