import { describe, expect, it } from 'vitest';
import { ErrorCode, HelloStatus } from './constants.ts';
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
  ] as const;

  it.each(cases)('%o has its code, wire code and name', (err, code, wireCode) => {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.wireCode).toBe(wireCode);
    expect(err.name).toBe(err.constructor.name);
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

  it('keep their details and cause', () => {
    const cause = new Error('root');
    const err = new FrameTooLargeError(70_000, 65_536, { cause });
    expect(err.size).toBe(70_000);
    expect(err.maxFrameSize).toBe(65_536);
    expect(err.cause).toBe(cause);
  });
});
