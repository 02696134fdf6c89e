import { describe, expect, it, vi } from 'vitest';
import {
  CIPHER_ERROR_CODES,
  CipherError,
  InvalidGroupError,
  InvalidPublicKeyError,
  RandomSourceError,
  WeakPublicKeyError,
} from './errors.ts';

describe('errors', () => {
  const cases = [
    [CipherError, 'RTT_ERR_CIPHER', Error],
    [InvalidGroupError, 'RTT_ERR_INVALID_GROUP', CipherError],
    [InvalidPublicKeyError, 'RTT_ERR_INVALID_PUBLIC_KEY', CipherError],
    [WeakPublicKeyError, 'RTT_ERR_WEAK_PUBLIC_KEY', InvalidPublicKeyError],
    [RandomSourceError, 'RTT_ERR_RANDOM_SOURCE', CipherError],
  ] as const;

  it.each(cases)('%o has its own code, name and parent', (ErrorClass, code, Parent) => {
    const cause = new Error('underlying');
    const err = new ErrorClass('message', { cause });
    expect(err.code).toBe(code);
    expect(err.name).toBe(ErrorClass.name);
    expect(err).toBeInstanceOf(Parent);
    expect(err).toBeInstanceOf(CipherError);
    expect(err.cause).toBe(cause);
    expect(err.stack).toContain(ErrorClass.name);
  });

  it('match instanceof by brand, so errors from another copy of the package pass', async () => {
    // A second evaluation of the module stands for the other (ESM or CommonJS) build.
    vi.resetModules();
    const copy = await import('./errors.ts');
    expect(copy.WeakPublicKeyError).not.toBe(WeakPublicKeyError);
    const err = new copy.WeakPublicKeyError('from the other copy');
    expect(err).toBeInstanceOf(WeakPublicKeyError);
    expect(err).toBeInstanceOf(InvalidPublicKeyError);
    expect(err).toBeInstanceOf(CipherError);
    expect(err).toBeInstanceOf(Error);
    expect(new copy.CipherError('x')).not.toBeInstanceOf(InvalidPublicKeyError);
    expect(new InvalidGroupError('x')).toBeInstanceOf(copy.CipherError);
    expect(new InvalidGroupError('x')).not.toBeInstanceOf(copy.RandomSourceError);
    for (const value of [null, undefined, 42, 'RTT_ERR_CIPHER', {}, new Error('plain')]) {
      expect(value instanceof CipherError).toBe(false);
    }
  });

  it('leave a subclass declared elsewhere to the prototype chain', () => {
    class AppError extends InvalidPublicKeyError {}
    const err = new AppError('app');
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(InvalidPublicKeyError);
    expect(err.name).toBe('AppError');
    expect(err.code).toBe('RTT_ERR_INVALID_PUBLIC_KEY');
    expect(new InvalidPublicKeyError('x')).not.toBeInstanceOf(AppError);
  });

  it('lists every code once', () => {
    const codes = Object.values(CIPHER_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.sort()).toEqual(cases.map(([, code]) => code).sort());
  });
});
