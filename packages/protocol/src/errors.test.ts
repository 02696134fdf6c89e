import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, HelloStatus } from './constants.ts';
import * as errors from './errors.ts';
import {
  BadHelloError,
  BadPublicKeyError,
  BadSeedKeyError,
  FrameTooLargeError,
  HandshakeTimeoutError,
  HelloRejectedError,
  MalformedFrameError,
  ProtocolError,
  TooManyRekeysError,
  UnsupportedCipherError,
  UnsupportedGroupError,
  UnsupportedVersionError,
} from './errors.ts';

describe('errors', () => {
  const cases = [
    [new ProtocolError('x'), 'RTT_ERR_PROTOCOL', ErrorCode.INTERNAL],
    [new FrameTooLargeError(70_000, 65_536), 'RTT_ERR_FRAME_TOO_LARGE', ErrorCode.FRAME_TOO_LARGE],
    [new MalformedFrameError('x'), 'RTT_ERR_MALFORMED_FRAME', ErrorCode.MALFORMED_FRAME],
    [new BadHelloError('x'), 'RTT_ERR_BAD_HELLO', ErrorCode.BAD_HELLO],
    [new UnsupportedVersionError(2), 'RTT_ERR_UNSUPPORTED_VERSION', ErrorCode.BAD_HELLO],
    [new UnsupportedCipherError(9), 'RTT_ERR_UNSUPPORTED_CIPHER', ErrorCode.BAD_HELLO],
    [new UnsupportedGroupError(9), 'RTT_ERR_UNSUPPORTED_GROUP', ErrorCode.BAD_HELLO],
    [new BadPublicKeyError(0), 'RTT_ERR_BAD_PUBLIC_KEY', ErrorCode.BAD_HELLO],
    [new HandshakeTimeoutError(5000), 'RTT_ERR_HANDSHAKE_TIMEOUT', ErrorCode.HANDSHAKE_TIMEOUT],
    [new TooManyRekeysError(8), 'RTT_ERR_TOO_MANY_REKEYS', ErrorCode.TOO_MANY_REKEYS],
    [new BadSeedKeyError('x'), 'RTT_ERR_BAD_SEED_KEY', ErrorCode.BAD_HELLO],
    [new errors.UnknownWireError(0xff), 'RTT_ERR_UNKNOWN_WIRE', ErrorCode.BAD_HELLO],
    [new errors.TlsNotEnabledError(), 'RTT_ERR_TLS_NOT_ENABLED', ErrorCode.BAD_HELLO],
    [new errors.TlsError('x'), 'RTT_ERR_TLS', ErrorCode.BAD_HELLO],
    [new errors.ShuttingDownError(), 'RTT_ERR_SHUTTING_DOWN', ErrorCode.SHUTTING_DOWN],
    [new errors.IdleTimeoutError(300_000), 'RTT_ERR_IDLE_TIMEOUT', ErrorCode.IDLE_TIMEOUT],
    [new errors.ServerBusyError(), 'RTT_ERR_SERVER_BUSY', ErrorCode.SERVER_BUSY],
    [
      new errors.ServerError(ErrorCode.SHUTTING_DOWN, ''),
      'RTT_ERR_SERVER_ERROR',
      ErrorCode.SHUTTING_DOWN,
    ],
    [new errors.NotReadyError(), 'RTT_ERR_NOT_READY', ErrorCode.INTERNAL],
    [
      new errors.UnsupportedCommandError('PING', 'seed'),
      'RTT_ERR_UNSUPPORTED_COMMAND',
      ErrorCode.INTERNAL,
    ],
    [new errors.ConnectError('h', 1, 'no'), 'RTT_ERR_CONNECT', ErrorCode.INTERNAL],
    [new errors.ConnectionLostError('gone'), 'RTT_ERR_SERVER_GONE', ErrorCode.INTERNAL],
    [new errors.ConnectionClosedError(), 'RTT_ERR_CLOSED', ErrorCode.INTERNAL],
    [new errors.TimeoutError('the key exchange', 10_000), 'RTT_ERR_TIMEOUT', ErrorCode.INTERNAL],
    [new errors.UnexpectedDataError(5), 'RTT_ERR_UNEXPECTED_DATA', ErrorCode.MALFORMED_FRAME],
    [new errors.UnexpectedResponseError(5), 'RTT_ERR_UNEXPECTED_ID', ErrorCode.MALFORMED_FRAME],
  ] as const;

  it.each(cases)('%o has its code, wire code and name', (err, code, wireCode) => {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.wireCode).toBe(wireCode);
    expect(err.name).toBe(err.constructor.name);
  });

  it('messages read as a user sees them', () => {
    expect(new errors.ServerError(ErrorCode.SHUTTING_DOWN, '').message).toBe(
      'the server ended the session: SHUTTING_DOWN',
    );
    expect(new errors.TimeoutError('the key exchange', 10_000).message).toBe(
      'the server did not finish the key exchange within 10 s',
    );
    expect(new HandshakeTimeoutError(300).message).toBe('no key exchange within 0.3 s');
    const wrapped = errors.toProtocolError(new Error('boom'), 'the key exchange failed');
    expect(wrapped).toMatchObject({ code: 'RTT_ERR_PROTOCOL', message: 'the key exchange failed' });
    const typed = new BadSeedKeyError('x');
    expect(errors.toProtocolError(typed, 'unused')).toBe(typed);
  });

  it("a client reads the server's ERROR frame as busy, idle-closed, or the server's error", () => {
    const busy = errors.serverErrorFromFrame(ErrorCode.SERVER_BUSY, 'server busy');
    expect(busy).toBeInstanceOf(errors.ServerBusyError);
    expect(busy).toMatchObject({
      code: 'RTT_ERR_SERVER_BUSY',
      serverMessage: 'server busy',
      message: 'the server is full (too many connections); try again later',
    });
    const idle = errors.serverErrorFromFrame(ErrorCode.IDLE_TIMEOUT, 'idle for 300 s');
    expect(idle).toBeInstanceOf(errors.ConnectionLostError);
    expect(idle).toMatchObject({
      code: 'RTT_ERR_SERVER_GONE',
      message: 'the server closed the connection after it sat idle (idle for 300 s)',
    });
    expect(idle.cause).toMatchObject({ wireCode: ErrorCode.IDLE_TIMEOUT });
    const closing = errors.serverErrorFromFrame(ErrorCode.SHUTTING_DOWN, 'server closing');
    expect(closing).toBeInstanceOf(errors.ServerError);
    expect(closing).toMatchObject({ code: 'RTT_ERR_SERVER_ERROR', wireCode: 5 });
    expect(new errors.IdleTimeoutError(300_000)).toMatchObject({
      message: 'idle for 300 s',
      timeoutMs: 300_000,
    });
  });

  it('hello refusals carry the ServerHello status to answer with', () => {
    expect(new UnsupportedVersionError(2).helloStatus).toBe(HelloStatus.UNSUPPORTED_VERSION);
    expect(new UnsupportedCipherError(9).helloStatus).toBe(HelloStatus.UNSUPPORTED_CIPHER);
    expect(new UnsupportedGroupError(9).helloStatus).toBe(HelloStatus.UNSUPPORTED_GROUP);
    expect(new BadPublicKeyError(0).helloStatus).toBe(HelloStatus.BAD_PUBLIC_KEY);
    for (const err of [new UnsupportedVersionError(2), new BadPublicKeyError(0)]) {
      expect(err).toBeInstanceOf(HelloRejectedError);
      expect(err).toBeInstanceOf(BadHelloError);
    }
  });

  it('every class is branded, named after itself, with a code of its own', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof ProtocolError =>
        typeof value === 'function' && value.prototype instanceof Error,
    );
    // Every class has a row in the table above, but HelloRejectedError, the refusals' base.
    expect(classes.length).toBe(cases.length + 1);
    for (const ErrorClass of classes) {
      // A class without its own `brand(...)` line would fail here.
      expect(Object.getOwnPropertySymbols(ErrorClass.prototype)).toContain(
        Symbol.for(`rtt.error.${ErrorClass.name}`),
      );
    }
    const codes = cases.map(([err]) => err.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('match instanceof by brand, so errors from another copy of the package pass', async () => {
    // A second evaluation of the module stands for the other (ESM or CommonJS) build.
    vi.resetModules();
    const copy = await import('./errors.ts');
    expect(copy.BadPublicKeyError).not.toBe(BadPublicKeyError);
    const err = new copy.BadPublicKeyError(3);
    expect(err).toBeInstanceOf(BadPublicKeyError);
    expect(err).toBeInstanceOf(HelloRejectedError);
    expect(err).toBeInstanceOf(BadHelloError);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).not.toBeInstanceOf(UnsupportedGroupError);
    expect(new FrameTooLargeError(9, 8)).toBeInstanceOf(copy.ProtocolError);
    expect(new copy.ProtocolError('x')).not.toBeInstanceOf(FrameTooLargeError);
    for (const value of [null, undefined, 0, 'RTT_ERR_PROTOCOL', {}, new Error('plain')]) {
      expect(value instanceof ProtocolError).toBe(false);
    }
  });

  it('leave a subclass declared elsewhere to the prototype chain', () => {
    class AppError extends MalformedFrameError {}
    const err = new AppError('app');
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(MalformedFrameError);
    expect(err.name).toBe('AppError');
    expect(err.code).toBe('RTT_ERR_MALFORMED_FRAME');
    expect(new MalformedFrameError('x')).not.toBeInstanceOf(AppError);
  });

  it('keep their details and cause', () => {
    const cause = new Error('root');
    const err = new FrameTooLargeError(70_000, 65_536, { cause });
    expect(err.size).toBe(70_000);
    expect(err.maxFrameSize).toBe(65_536);
    expect(err.cause).toBe(cause);
  });
});
