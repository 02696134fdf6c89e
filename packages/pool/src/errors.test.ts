import { describe, expect, it, vi } from 'vitest';
import * as errors from './errors.ts';
import {
  BadModuleError,
  NoSessionModuleError,
  NoTaskModuleError,
  PoolClosedError,
  PoolError,
  SocketTransferUnsupportedError,
  TaskFailedError,
} from './errors.ts';

describe('errors', () => {
  const cases = [
    [PoolError, 'RTT_ERR_POOL'],
    [SocketTransferUnsupportedError, 'RTT_ERR_SOCKET_TRANSFER_UNSUPPORTED'],
    [PoolClosedError, 'RTT_ERR_POOL_CLOSED'],
    [NoTaskModuleError, 'RTT_ERR_NO_TASK_MODULE'],
    [NoSessionModuleError, 'RTT_ERR_NO_SESSION_MODULE'],
    [BadModuleError, 'RTT_ERR_BAD_MODULE'],
    [TaskFailedError, 'RTT_ERR_TASK_FAILED'],
  ] as const;

  it.each(cases)('%o has its own code and name, and keeps its cause', (ErrorClass, code) => {
    const cause = new Error('underlying');
    const err = new ErrorClass('message', { cause });
    expect(err.code).toBe(code);
    expect(err.name).toBe(ErrorClass.name);
    expect(err).toBeInstanceOf(PoolError);
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

  it('match instanceof by brand, so errors from another copy of the package pass', async () => {
    // A second evaluation of the module stands for the other (ESM or CommonJS) build.
    vi.resetModules();
    const copy = await import('./errors.ts');
    expect(copy.TaskFailedError).not.toBe(TaskFailedError);
    const err = new copy.TaskFailedError('from the other copy');
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toBeInstanceOf(PoolError);
    expect(err).not.toBeInstanceOf(PoolClosedError);
    expect(new BadModuleError('x')).toBeInstanceOf(copy.PoolError);
    expect(new copy.PoolError('x')).not.toBeInstanceOf(BadModuleError);
    for (const value of [null, undefined, 0, 'RTT_ERR_POOL', {}, new Error('plain')]) {
      expect(value instanceof PoolError).toBe(false);
    }
  });

  it('leave a subclass declared elsewhere to the prototype chain', () => {
    class AppError extends TaskFailedError {}
    const err = new AppError('app');
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.name).toBe('AppError');
    expect(err.code).toBe('RTT_ERR_TASK_FAILED');
    expect(new TaskFailedError('x')).not.toBeInstanceOf(AppError);
  });
});
