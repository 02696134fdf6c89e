import { describe, expect, it, vi } from 'vitest';
import * as errors from './errors.ts';
import { CliError, UsageError } from './errors.ts';
import * as index from './index.ts';

describe('errors', () => {
  const cases = [
    [CliError, 'RTT_ERR_CLI'],
    [UsageError, 'RTT_ERR_USAGE'],
  ] as const;

  it.each(cases)('%o has its own code and name, and keeps its cause', (ErrorClass, code) => {
    const cause = new Error('underlying');
    const err = new ErrorClass('message', { cause });
    expect(err.code).toBe(code);
    expect(err.name).toBe(ErrorClass.name);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toBeInstanceOf(Error);
    expect(err.cause).toBe(cause);
    expect(err.stack).toContain(ErrorClass.name);
  });

  it('lists every class, each branded, each code once', () => {
    const classes = Object.values(errors);
    expect(new Set(classes)).toEqual(new Set(cases.map(([ErrorClass]) => ErrorClass)));
    for (const ErrorClass of classes) {
      expect(Object.getOwnPropertySymbols(ErrorClass.prototype)).toContain(
        Symbol.for(`rtt.error.${ErrorClass.name}`),
      );
    }
    expect(new Set(cases.map(([, code]) => code)).size).toBe(cases.length);
  });

  it('are exported from the package entry', () => {
    expect(index.CliError).toBe(CliError);
    expect(index.UsageError).toBe(UsageError);
  });

  it('match instanceof by brand, so errors from another copy of the package pass', async () => {
    // A second evaluation of the module stands for another copy of the package.
    vi.resetModules();
    const copy = await import('./errors.ts');
    expect(copy.UsageError).not.toBe(UsageError);
    const err = new copy.UsageError('from the other copy');
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toBeInstanceOf(CliError);
    expect(new UsageError('x')).toBeInstanceOf(copy.CliError);
    expect(new copy.CliError('x')).not.toBeInstanceOf(UsageError);
    for (const value of [null, undefined, 0, 'RTT_ERR_USAGE', {}, new Error('plain')]) {
      expect(value instanceof CliError).toBe(false);
    }
  });

  it('leave a subclass declared elsewhere to the prototype chain', () => {
    class AppUsageError extends UsageError {}
    const err = new AppUsageError('app');
    expect(err).toBeInstanceOf(AppUsageError);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.name).toBe('AppUsageError');
    expect(err.code).toBe('RTT_ERR_USAGE');
    expect(new UsageError('x')).not.toBeInstanceOf(AppUsageError);
  });
});
