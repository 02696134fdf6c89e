/**
 * `@rtt/cipher/error-brand`: how the rtt packages make `instanceof` work on their errors
 * across the ESM and the CommonJS copy of a dual package. Those are two modules with two
 * sets of classes: code that `require`s one while a dependency `import`s the other would
 * otherwise see `err instanceof ProtocolError` fail. As undici does (lib/core/errors.js),
 * every class gets a `Symbol.for('rtt.error.<Class>')` brand on its prototype, and a base
 * class's `Symbol.hasInstance` looks for the brand; `Symbol.for` gives the same symbol in
 * every copy. Shared by `@rtt/cipher` and `@rtt/protocol` (`@rtt/pool` depends on neither
 * and keeps its own few lines).
 * @module
 */

const brands = new WeakMap<object, symbol>();

/** A class whose instances are `T`. */
export type ClassOf<T> = abstract new (...args: never[]) => T;

/**
 * Puts the brand `Symbol.for(key)` on `ErrorClass` and its instances. Call it once per class,
 * right after its declaration.
 * @example
 * brand(FrameTooLargeError, 'rtt.error.FrameTooLargeError');
 */
export function brand(ErrorClass: ClassOf<Error>, key: string): void {
  const symbol = Symbol.for(key);
  brands.set(ErrorClass, symbol);
  Object.defineProperty(ErrorClass.prototype, symbol, { value: true });
}

/**
 * `value instanceof ErrorClass`, by brand: what a base class's `Symbol.hasInstance` returns.
 * A subclass declared elsewhere has no brand of its own: the prototype chain decides.
 * @example
 * static override [Symbol.hasInstance](value: unknown) { return hasBrand(this, value); }
 */
export function hasBrand(ErrorClass: object, value: unknown): boolean {
  const symbol = brands.get(ErrorClass);
  if (symbol === undefined) return Function.prototype[Symbol.hasInstance].call(ErrorClass, value);
  return typeof value === 'object' && value !== null && symbol in value;
}
