import { describe, expect, it } from 'vitest';
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

  it('lists every code once', () => {
    const codes = Object.values(CIPHER_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.sort()).toEqual(cases.map(([, code]) => code).sort());
  });
});
