import { describe, expect, it, vi } from 'vitest';
import * as errors from './errors.ts';
import { BenchError, LoadStartError, NoCertificateError } from './errors.ts';

describe('errors', () => {
  // LoadStartError carries the failing connection's code, so each case makes its own error.
  const cases = [
    [BenchError, 'RTT_ERR_BENCH', (options: ErrorOptions) => new BenchError('message', options)],
    [
      LoadStartError,
      'ECONNREFUSED',
      (options: ErrorOptions) => new LoadStartError('ECONNREFUSED', 'message', options),
    ],
  ] as const;

  it.each(cases)('%o has its code and name, and keeps its cause', (ErrorClass, code, make) => {
    const cause = new Error('underlying');
    const err = make({ cause });
    expect(err.code).toBe(code);
    expect(err.name).toBe(ErrorClass.name);
    expect(err.message).toBe('message');
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err).toBeInstanceOf(BenchError);
    expect(err).toBeInstanceOf(Error);
    expect(err.cause).toBe(cause);
    expect(err.stack).toContain(ErrorClass.name);
  });

  it('gives LoadStartError the code of the connection that failed', () => {
    expect(new LoadStartError('RTT_ERR_CONNECT', 'refused').code).toBe('RTT_ERR_CONNECT');
    expect(new LoadStartError('ETIMEDOUT', 'slow').code).toBe('ETIMEDOUT');
  });

  it('says where the TLS baseline looked for a certificate, and how to make one', () => {
    const err = new NoCertificateError('/state', 'ENOENT');
    expect(err.code).toBe('RTT_ERR_BENCH_NO_CERTIFICATE');
    expect(err).toBeInstanceOf(BenchError);
    expect(err.message).toBe(
      'no certificate in /state (ENOENT): start `rtt-server --tls --state-dir /state` once to make it',
    );
  });

  it('lists every class, each branded', () => {
    const classes = Object.values(errors);
    expect(new Set(classes)).toEqual(
      new Set([...cases.map(([ErrorClass]) => ErrorClass), NoCertificateError]),
    );
    for (const ErrorClass of classes) {
      expect(Object.getOwnPropertySymbols(ErrorClass.prototype)).toContain(
        Symbol.for(`rtt.error.${ErrorClass.name}`),
      );
    }
  });

  it('match instanceof by brand, so errors from another evaluation of the module pass', async () => {
    vi.resetModules();
    const copy = await import('./errors.ts');
    expect(copy.LoadStartError).not.toBe(LoadStartError);
    const err = new copy.LoadStartError('ECONNREFUSED', 'from the other copy');
    expect(err).toBeInstanceOf(LoadStartError);
    expect(err).toBeInstanceOf(BenchError);
    expect(new LoadStartError('ECONNREFUSED', 'x')).toBeInstanceOf(copy.BenchError);
    expect(new copy.BenchError('x')).not.toBeInstanceOf(LoadStartError);
    for (const value of [null, undefined, 0, 'RTT_ERR_BENCH', {}, new Error('plain')]) {
      expect(value instanceof BenchError).toBe(false);
    }
  });

  it('leave a subclass declared elsewhere to the prototype chain', () => {
    class WarmupStartError extends LoadStartError {}
    const err = new WarmupStartError('ECONNRESET', 'warm-up');
    expect(err).toBeInstanceOf(WarmupStartError);
    expect(err).toBeInstanceOf(LoadStartError);
    expect(err.name).toBe('WarmupStartError');
    expect(err.code).toBe('ECONNRESET');
    expect(new LoadStartError('ECONNRESET', 'x')).not.toBeInstanceOf(WarmupStartError);
  });
});
