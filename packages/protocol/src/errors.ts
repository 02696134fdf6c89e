import { ErrorCode, type ErrorCodeCode, HelloStatus, type HelloStatusCode } from './constants.ts';

/** Options accepted by every protocol error (the standard `cause`). */
export interface ProtocolErrorOptions {
  /** The underlying error, if this one wraps another. */
  readonly cause?: unknown;
}

/**
 * Base class of every error this package throws for bad bytes or a refused handshake.
 * `code` names the failure for programs; `wireCode` is the ERROR frame code a server
 * should send before closing.
 * @example
 * try {
 *   decoder.push(chunk);
 * } catch (err) {
 *   if (err instanceof ProtocolError) framed.sendError(err.wireCode, 'goodbye');
 * }
 */
export class ProtocolError extends Error {
  /** Stable machine-readable identifier, e.g. `'RTT_ERR_FRAME_TOO_LARGE'`. */
  readonly code: string = 'RTT_ERR_PROTOCOL';
  /** The ERROR frame code that reports this failure to the peer. */
  readonly wireCode: ErrorCodeCode;

  /**
   * @example
   * new ProtocolError('peer misbehaved', ErrorCode.INTERNAL);
   */
  constructor(
    message: string,
    wireCode: ErrorCodeCode = ErrorCode.INTERNAL,
    options?: ProtocolErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.wireCode = wireCode;
  }
}

/**
 * A length prefix announced a body larger than `maxFrameSize`; thrown before any of the
 * body is buffered.
 * @example
 * new FrameTooLargeError(1_000_000, 65_536).code; // 'RTT_ERR_FRAME_TOO_LARGE'
 */
export class FrameTooLargeError extends ProtocolError {
  override readonly code = 'RTT_ERR_FRAME_TOO_LARGE';
  /** The announced body length. */
  readonly size: number;
  /** The limit it exceeded. */
  readonly maxFrameSize: number;

  /**
   * @example
   * throw new FrameTooLargeError(size, maxFrameSize);
   */
  constructor(size: number, maxFrameSize: number, options?: ProtocolErrorOptions) {
    super(
      `frame body of ${size} bytes exceeds the maximum of ${maxFrameSize}`,
      ErrorCode.FRAME_TOO_LARGE,
      options,
    );
    this.size = size;
    this.maxFrameSize = maxFrameSize;
  }
}

/**
 * A frame that cannot be decoded: zero length, unknown type, a type not meant for this
 * side, or a body too short for its type.
 * @example
 * new MalformedFrameError('unknown frame type 0x09').wireCode; // ErrorCode.MALFORMED_FRAME
 */
export class MalformedFrameError extends ProtocolError {
  override readonly code = 'RTT_ERR_MALFORMED_FRAME';

  /**
   * @example
   * throw new MalformedFrameError('zero-length frame');
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, ErrorCode.MALFORMED_FRAME, options);
  }
}

/**
 * A hello that is not one: wrong magic bytes.
 * @example
 * new BadHelloError('bad magic').code; // 'RTT_ERR_BAD_HELLO'
 */
export class BadHelloError extends ProtocolError {
  override readonly code: string = 'RTT_ERR_BAD_HELLO';

  /**
   * @example
   * throw new BadHelloError('expected magic "RTT"');
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, ErrorCode.BAD_HELLO, options);
  }
}

/**
 * Base of the four handshake refusals. `helloStatus` is the ServerHello status that
 * reports it (a server answers with a ServerHello, not an ERROR frame, then closes).
 * @example
 * if (err instanceof HelloRejectedError) framed.sendServerHello({ status: err.helloStatus, cipher: 0 });
 */
export class HelloRejectedError extends BadHelloError {
  override readonly code: string = 'RTT_ERR_HELLO_REJECTED';
  /** The ServerHello status for this refusal. */
  readonly helloStatus: Exclude<HelloStatusCode, 0>;

  /**
   * @example
   * new HelloRejectedError('no', HelloStatus.BAD_PUBLIC_KEY);
   */
  constructor(
    message: string,
    helloStatus: Exclude<HelloStatusCode, 0>,
    options?: ProtocolErrorOptions,
  ) {
    super(message, options);
    this.helloStatus = helloStatus;
  }
}

/**
 * The peer speaks another protocol version.
 * @example
 * new UnsupportedVersionError(2).helloStatus; // HelloStatus.UNSUPPORTED_VERSION
 */
export class UnsupportedVersionError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_VERSION';
  /** The version the peer asked for or answered with. */
  readonly version: number;

  /**
   * @example
   * throw new UnsupportedVersionError(hello.version);
   */
  constructor(version: number, options?: ProtocolErrorOptions) {
    super(`unsupported protocol version ${version}`, HelloStatus.UNSUPPORTED_VERSION, options);
    this.version = version;
  }
}

/**
 * The cipher asked for (or chosen) is not acceptable.
 * @example
 * new UnsupportedCipherError(9).cipher; // 9
 */
export class UnsupportedCipherError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_CIPHER';
  /** The cipher id in question. */
  readonly cipher: number;

  /**
   * @example
   * throw new UnsupportedCipherError(hello.cipher);
   */
  constructor(cipher: number, options?: ProtocolErrorOptions) {
    super(`unsupported cipher ${cipher}`, HelloStatus.UNSUPPORTED_CIPHER, options);
    this.cipher = cipher;
  }
}

/**
 * The Diffie-Hellman group asked for is not known.
 * @example
 * new UnsupportedGroupError(7).group; // 7
 */
export class UnsupportedGroupError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_GROUP';
  /** The group id in question. */
  readonly group: number;

  /**
   * @example
   * throw new UnsupportedGroupError(hello.group);
   */
  constructor(group: number, options?: ProtocolErrorOptions) {
    super(`unsupported group ${group}`, HelloStatus.UNSUPPORTED_GROUP, options);
    this.group = group;
  }
}

/**
 * A public key outside the group (for the seed group: not in 1..256), or the server
 * rejected ours.
 * @example
 * new BadPublicKeyError(0).publicKey; // 0
 */
export class BadPublicKeyError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_BAD_PUBLIC_KEY';
  /** The rejected public key (0 when the peer did not say). */
  readonly publicKey: number;

  /**
   * @example
   * throw new BadPublicKeyError(hello.publicKey);
   */
  constructor(publicKey: number, options?: ProtocolErrorOptions) {
    super(`bad public key ${publicKey}`, HelloStatus.BAD_PUBLIC_KEY, options);
    this.publicKey = publicKey;
  }
}

/**
 * The handshake did not finish within the allowed time (the policy lives in the apps).
 * @example
 * throw new HandshakeTimeoutError(5_000);
 */
export class HandshakeTimeoutError extends ProtocolError {
  override readonly code = 'RTT_ERR_HANDSHAKE_TIMEOUT';
  /** The time allowed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @example
   * new HandshakeTimeoutError(5_000).wireCode; // ErrorCode.HANDSHAKE_TIMEOUT
   */
  constructor(timeoutMs: number, options?: ProtocolErrorOptions) {
    super(`handshake not finished within ${timeoutMs} ms`, ErrorCode.HANDSHAKE_TIMEOUT, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Every hello round so far gave a weak key and the limit of rounds is reached.
 * @example
 * if (round > MAX_HELLO_ROUNDS) throw new TooManyRekeysError(MAX_HELLO_ROUNDS);
 */
export class TooManyRekeysError extends ProtocolError {
  override readonly code = 'RTT_ERR_TOO_MANY_REKEYS';
  /** How many rounds were allowed. */
  readonly rounds: number;

  /**
   * @example
   * new TooManyRekeysError(8).wireCode; // ErrorCode.TOO_MANY_REKEYS
   */
  constructor(rounds: number, options?: ProtocolErrorOptions) {
    super(`no usable key after ${rounds} hello rounds`, ErrorCode.TOO_MANY_REKEYS, options);
    this.rounds = rounds;
  }
}

/**
 * The seed wire's decimal public key is not one: a non-digit byte, no digits, or too many.
 * @example
 * new BadSeedKeyError('not a digit').code; // 'RTT_ERR_BAD_SEED_KEY'
 */
export class BadSeedKeyError extends ProtocolError {
  override readonly code = 'RTT_ERR_BAD_SEED_KEY';

  /**
   * @example
   * throw new BadSeedKeyError('empty key');
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    // The seed wire has no ERROR frame; BAD_HELLO is what it would be on ours.
    super(message, ErrorCode.BAD_HELLO, options);
  }
}
