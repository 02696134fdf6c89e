import { describe, expect, it } from 'vitest';
import { SocketTransferUnsupportedError } from './errors.ts';
import { assertSocketTransfer, supportsSocketTransfer } from './runtime.ts';

describe('socket transfer support', () => {
  it.each([
    ['20.20.2', false],
    ['26.5.1', false],
    ['26.6.0', true],
    ['26.10.0', true],
    ['27.0.0', true],
  ])('Node %s -> %s', (version, expected) => {
    expect(supportsSocketTransfer(version)).toBe(expected);
  });

  it('fails with one error naming the version needed', () => {
    let caught: unknown;
    try {
      assertSocketTransfer('20.20.2');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SocketTransferUnsupportedError);
    expect((caught as SocketTransferUnsupportedError).code).toBe(
      'RTT_ERR_SOCKET_TRANSFER_UNSUPPORTED',
    );
    expect((caught as Error).message).toContain('26.6.0');
  });

  it('passes on the running Node', () => {
    expect(() => assertSocketTransfer()).not.toThrow();
  });
});
