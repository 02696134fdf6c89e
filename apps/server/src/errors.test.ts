import { describe, expect, it, vi } from 'vitest';
import * as errors from './errors.ts';
import { CertificateError, NoSensorError, ServerAppError, StateDirError } from './errors.ts';

describe('errors', () => {
  const cases = [
    [ServerAppError, 'RTT_ERR_SERVER_APP'],
    [NoSensorError, 'RTT_ERR_NO_SENSOR'],
    [CertificateError, 'RTT_ERR_CERTIFICATE'],
    [StateDirError, 'RTT_ERR_STATE_DIR'],
  ] as const;

  it.each(cases)('%o has its own code and name, and keeps its cause', (ErrorClass, code) => {
    const cause = new Error('underlying');
    const err = new ErrorClass('message', { cause });
    expect(err.code).toBe(code);
    expect(err.name).toBe(ErrorClass.name);
    expect(err).toBeInstanceOf(ServerAppError);
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

  it('match instanceof by brand, so errors from another evaluation of the module pass', async () => {
    vi.resetModules();
    const copy = await import('./errors.ts');
    expect(copy.NoSensorError).not.toBe(NoSensorError);
    const err = new copy.NoSensorError('from the other copy');
    expect(err).toBeInstanceOf(NoSensorError);
    expect(err).toBeInstanceOf(ServerAppError);
    expect(new NoSensorError('x')).toBeInstanceOf(copy.ServerAppError);
    expect(new copy.ServerAppError('x')).not.toBeInstanceOf(NoSensorError);
    for (const value of [null, undefined, 0, 'RTT_ERR_NO_SENSOR', {}, new Error('plain')]) {
      expect(value instanceof ServerAppError).toBe(false);
    }
  });

  it('leave a subclass declared elsewhere to the prototype chain', () => {
    class HostSensorError extends NoSensorError {}
    const err = new HostSensorError('host');
    expect(err).toBeInstanceOf(HostSensorError);
    expect(err).toBeInstanceOf(NoSensorError);
    expect(err.name).toBe('HostSensorError');
    expect(err.code).toBe('RTT_ERR_NO_SENSOR');
    expect(new NoSensorError('x')).not.toBeInstanceOf(HostSensorError);
  });
});
