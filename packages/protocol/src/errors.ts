import { brand, type ClassOf, hasBrand } from '@rtt/cipher/error-brand';
import {
  ErrorCode,
  type ErrorCodeCode,
  errorCodeName,
  HelloStatus,
  type HelloStatusCode,
} from './constants.ts';

/** Options accepted by every protocol error (the standard `cause`). */
export interface ProtocolErrorOptions {
  /** The underlying error, if this one wraps another. */
  readonly cause?: unknown;
}

// instanceof goes by a brand, so that errors from the package's other (ESM or CommonJS)
// copy match too: see @rtt/cipher/error-brand. A class added here needs its brand() line.

/**
 * Base class of every error this package throws for bad bytes or a refused handshake.
 * `code` names the failure for programs; `wireCode` is the ERROR frame code a server
 * should send before closing. `name` is the class name; `instanceof` also works on errors
 * from the other (ESM or CommonJS) copy of this package.
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

  /**
   * Whether `value` carries the brand of the class on the right of `instanceof` (this one or
   * a subclass), so that errors from the package's other copy match too.
   */
  static override [Symbol.hasInstance]<T>(this: ClassOf<T>, value: unknown): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class right of `instanceof`, often a subclass.
    return hasBrand(this, value);
  }
}
brand(ProtocolError, 'rtt.error.ProtocolError');

/**
 * A length prefix announced a body larger than `maxFrameSize`; thrown before any of the
 * body is buffered.
 * @example
 * new FrameTooLargeError(1_000_000, 65_536).code; // 'RTT_ERR_FRAME_TOO_LARGE'
 */
export class FrameTooLargeError extends ProtocolError {
  override readonly code = 'RTT_ERR_FRAME_TOO_LARGE' as const;
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
brand(FrameTooLargeError, 'rtt.error.FrameTooLargeError');

/**
 * A frame that cannot be decoded: zero length, unknown type, a type not meant for this
 * side, or a body too short for its type.
 * @example
 * new MalformedFrameError('unknown frame type 0x09').wireCode; // ErrorCode.MALFORMED_FRAME
 */
export class MalformedFrameError extends ProtocolError {
  override readonly code = 'RTT_ERR_MALFORMED_FRAME' as const;

  /**
   * @example
   * throw new MalformedFrameError('zero-length frame');
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, ErrorCode.MALFORMED_FRAME, options);
  }
}
brand(MalformedFrameError, 'rtt.error.MalformedFrameError');

/**
 * A hello that is not one: wrong magic bytes.
 * @example
 * new BadHelloError('bad magic').code; // 'RTT_ERR_BAD_HELLO'
 */
export class BadHelloError extends ProtocolError {
  override readonly code: 'RTT_ERR_BAD_HELLO' | HelloRejectedCode = 'RTT_ERR_BAD_HELLO';

  /**
   * @example
   * throw new BadHelloError('expected magic "RTT"');
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, ErrorCode.BAD_HELLO, options);
  }
}
brand(BadHelloError, 'rtt.error.BadHelloError');

/** The codes of {@link HelloRejectedError} and its subclasses. */
type HelloRejectedCode =
  | 'RTT_ERR_HELLO_REJECTED'
  | 'RTT_ERR_UNSUPPORTED_VERSION'
  | 'RTT_ERR_UNSUPPORTED_CIPHER'
  | 'RTT_ERR_UNSUPPORTED_GROUP'
  | 'RTT_ERR_BAD_PUBLIC_KEY';

/**
 * Base of the four handshake refusals. `helloStatus` is the ServerHello status that
 * reports it (a server answers with a ServerHello, not an ERROR frame, then closes).
 * @example
 * if (err instanceof HelloRejectedError) framed.sendServerHello({ status: err.helloStatus, cipher: 0 });
 */
export class HelloRejectedError extends BadHelloError {
  override readonly code: HelloRejectedCode = 'RTT_ERR_HELLO_REJECTED';
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
brand(HelloRejectedError, 'rtt.error.HelloRejectedError');

/**
 * The peer speaks another protocol version.
 * @example
 * new UnsupportedVersionError(2).helloStatus; // HelloStatus.UNSUPPORTED_VERSION
 */
export class UnsupportedVersionError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_VERSION' as const;
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
brand(UnsupportedVersionError, 'rtt.error.UnsupportedVersionError');

/**
 * The cipher asked for (or chosen) is not acceptable.
 * @example
 * new UnsupportedCipherError(9).cipher; // 9
 */
export class UnsupportedCipherError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_CIPHER' as const;
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
brand(UnsupportedCipherError, 'rtt.error.UnsupportedCipherError');

/**
 * The Diffie-Hellman group asked for is not known.
 * @example
 * new UnsupportedGroupError(7).group; // 7
 */
export class UnsupportedGroupError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_GROUP' as const;
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
brand(UnsupportedGroupError, 'rtt.error.UnsupportedGroupError');

/**
 * A public key outside the group (for the seed group: not in 1..256), or the server
 * rejected ours.
 * @example
 * new BadPublicKeyError(0).publicKey; // 0
 */
export class BadPublicKeyError extends HelloRejectedError {
  override readonly code = 'RTT_ERR_BAD_PUBLIC_KEY' as const;
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
brand(BadPublicKeyError, 'rtt.error.BadPublicKeyError');

/**
 * The client did not finish its key exchange in time (`ServerConnection`'s `handshakeTimeoutMs`).
 * @example
 * throw new HandshakeTimeoutError(5_000);
 */
export class HandshakeTimeoutError extends ProtocolError {
  override readonly code = 'RTT_ERR_HANDSHAKE_TIMEOUT' as const;
  /** The time allowed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @example
   * new HandshakeTimeoutError(5_000).wireCode; // ErrorCode.HANDSHAKE_TIMEOUT
   */
  constructor(timeoutMs: number, options?: ProtocolErrorOptions) {
    super(`no key exchange within ${timeoutMs / 1000} s`, ErrorCode.HANDSHAKE_TIMEOUT, options);
    this.timeoutMs = timeoutMs;
  }
}
brand(HandshakeTimeoutError, 'rtt.error.HandshakeTimeoutError');

/**
 * Every hello round so far gave a weak key and the limit of rounds is reached.
 * @example
 * if (round > MAX_HELLO_ROUNDS) throw new TooManyRekeysError(MAX_HELLO_ROUNDS);
 */
export class TooManyRekeysError extends ProtocolError {
  override readonly code = 'RTT_ERR_TOO_MANY_REKEYS' as const;
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
brand(TooManyRekeysError, 'rtt.error.TooManyRekeysError');

/**
 * The seed wire's decimal public key is not one: a non-digit byte, no digits, or too many.
 * @example
 * new BadSeedKeyError('not a digit').code; // 'RTT_ERR_BAD_SEED_KEY'
 */
export class BadSeedKeyError extends ProtocolError {
  override readonly code = 'RTT_ERR_BAD_SEED_KEY' as const;

  /**
   * @example
   * throw new BadSeedKeyError('empty key');
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    // The seed wire has no ERROR frame; BAD_HELLO is what it would be on ours.
    super(message, ErrorCode.BAD_HELLO, options);
  }
}
brand(BadSeedKeyError, 'rtt.error.BadSeedKeyError');

/**
 * A connection's first byte is neither an ASCII digit (the seed wire) nor `R` (our hello).
 * @example
 * new UnknownWireError(0xff).message; // 'neither our protocol nor the seed wire (first byte 0xff)'
 */
export class UnknownWireError extends ProtocolError {
  override readonly code = 'RTT_ERR_UNKNOWN_WIRE' as const;
  /** The byte that was seen. */
  readonly firstByte: number;

  /**
   * @example
   * throw new UnknownWireError(chunk[0]);
   */
  constructor(firstByte: number, options?: ProtocolErrorOptions, insideTls = false) {
    const hex = `0x${firstByte.toString(16).padStart(2, '0')}`;
    super(
      insideTls
        ? // Only our framed protocol runs inside TLS: the seed wire is never carried there.
          `not our framed protocol inside TLS (first byte ${hex})`
        : `neither our protocol nor the seed wire (first byte ${hex})`,
      ErrorCode.BAD_HELLO,
      options,
    );
    this.firstByte = firstByte;
  }
}
brand(UnknownWireError, 'rtt.error.UnknownWireError');

/**
 * A connection's first byte is 0x16, a TLS ClientHello, and this server serves no TLS: the
 * connection is closed at once (a TLS client could not read an ERROR frame anyway).
 * @example
 * new TlsNotEnabledError().code; // 'RTT_ERR_TLS_NOT_ENABLED'
 */
export class TlsNotEnabledError extends ProtocolError {
  override readonly code = 'RTT_ERR_TLS_NOT_ENABLED' as const;

  /**
   * @example
   * refuse(new TlsNotEnabledError());
   */
  constructor(options?: ProtocolErrorOptions) {
    super(
      'the client speaks TLS, and this server was started without --tls',
      ErrorCode.BAD_HELLO,
      options,
    );
  }
}
brand(TlsNotEnabledError, 'rtt.error.TlsNotEnabledError');

/**
 * A TLS handshake failed: on a client, the server's certificate was not trusted or the
 * server does not speak TLS 1.3 (`cause` has Node's error); on a server, the client's
 * handshake was bad or not TLS 1.3.
 * @example
 * new TlsError('TLS with 127.0.0.1 port 7777 failed: self-signed certificate').code; // 'RTT_ERR_TLS'
 */
export class TlsError extends ProtocolError {
  override readonly code = 'RTT_ERR_TLS' as const;

  /**
   * @example
   * reject(new TlsError(`TLS with ${host} port ${port} failed: ${err.message}`, { cause: err }));
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, ErrorCode.BAD_HELLO, options);
  }
}
brand(TlsError, 'rtt.error.TlsError');

/**
 * The server is closing: it tells its framed clients with an ERROR frame SHUTTING_DOWN.
 * @example
 * new ShuttingDownError().wireCode; // ErrorCode.SHUTTING_DOWN
 */
export class ShuttingDownError extends ProtocolError {
  override readonly code = 'RTT_ERR_SHUTTING_DOWN' as const;

  /**
   * @example
   * session.end(new ShuttingDownError());
   */
  constructor(options?: ProtocolErrorOptions) {
    super('server closing', ErrorCode.SHUTTING_DOWN, options);
  }
}
brand(ShuttingDownError, 'rtt.error.ShuttingDownError');

/**
 * A client that agreed keys sent nothing for `idleTimeoutMs` (`ServerConnection`'s option):
 * the server closes the connection, with an ERROR frame IDLE_TIMEOUT on the framed wire.
 * @example
 * new IdleTimeoutError(300_000).message; // 'idle for 300 s'
 */
export class IdleTimeoutError extends ProtocolError {
  override readonly code = 'RTT_ERR_IDLE_TIMEOUT' as const;
  /** The time allowed without a byte from the client, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @example
   * new IdleTimeoutError(300_000).wireCode; // ErrorCode.IDLE_TIMEOUT
   */
  constructor(timeoutMs: number, options?: ProtocolErrorOptions) {
    super(`idle for ${timeoutMs / 1000} s`, ErrorCode.IDLE_TIMEOUT, options);
    this.timeoutMs = timeoutMs;
  }
}
brand(IdleTimeoutError, 'rtt.error.IdleTimeoutError');

/**
 * The server already serves as many connections as it may, and refused this one with an
 * ERROR frame SERVER_BUSY (`refuseConnection` in `@rtt/protocol/node`) before any key was
 * agreed. Trying again later, or another server, may work.
 * @example
 * new ServerBusyError().message; // 'the server is full (too many connections); try again later'
 */
export class ServerBusyError extends ProtocolError {
  override readonly code = 'RTT_ERR_SERVER_BUSY' as const;
  /** The server's own message (empty when it said nothing more). */
  readonly serverMessage: string;

  /**
   * @example
   * fail(new ServerBusyError(frame.message));
   */
  constructor(serverMessage = '', options?: ProtocolErrorOptions) {
    super(
      'the server is full (too many connections); try again later',
      ErrorCode.SERVER_BUSY,
      options,
    );
    this.serverMessage = serverMessage;
  }
}
brand(ServerBusyError, 'rtt.error.ServerBusyError');

/**
 * The server ended the session with an ERROR frame; `wireCode` is the code it sent.
 * @example
 * new ServerError(ErrorCode.SHUTTING_DOWN, 'server closing').message;
 * // 'the server ended the session: server closing'
 */
export class ServerError extends ProtocolError {
  override readonly code = 'RTT_ERR_SERVER_ERROR' as const;
  /** The server's own message. */
  readonly serverMessage: string;

  /**
   * @example
   * throw new ServerError(frame.code, frame.message);
   */
  constructor(wireCode: number, serverMessage: string, options?: ProtocolErrorOptions) {
    super(
      `the server ended the session: ${serverMessage || errorCodeName(wireCode) || `error ${wireCode}`}`,
      wireCode as ErrorCodeCode,
      options,
    );
    this.serverMessage = serverMessage;
  }
}
brand(ServerError, 'rtt.error.ServerError');

/**
 * A request was made before the keys were agreed, or after the session ended.
 * @example
 * new NotReadyError().code; // 'RTT_ERR_NOT_READY'
 */
export class NotReadyError extends ProtocolError {
  override readonly code = 'RTT_ERR_NOT_READY' as const;

  /**
   * @example
   * if (!session.ready) throw new NotReadyError();
   */
  constructor(options?: ProtocolErrorOptions) {
    super('the session is not ready for requests', ErrorCode.INTERNAL, options);
  }
}
brand(NotReadyError, 'rtt.error.NotReadyError');

/**
 * A command the wire cannot carry (the seed wire knows only TIME, DATE and TEMP).
 * @example
 * new UnsupportedCommandError('PING', 'seed').code; // 'RTT_ERR_UNSUPPORTED_COMMAND'
 */
export class UnsupportedCommandError extends ProtocolError {
  override readonly code = 'RTT_ERR_UNSUPPORTED_COMMAND' as const;

  /**
   * @example
   * throw new UnsupportedCommandError(command, 'seed');
   */
  constructor(command: string, wire: string, options?: ProtocolErrorOptions) {
    super(`the ${wire} wire has no command ${command}`, ErrorCode.INTERNAL, options);
  }
}
brand(UnsupportedCommandError, 'rtt.error.UnsupportedCommandError');

/**
 * A TCP connection to the server could not be opened.
 * @example
 * new ConnectError('127.0.0.1', 7777, 'connection refused').message;
 * // 'cannot connect to 127.0.0.1 port 7777: connection refused'
 */
export class ConnectError extends ProtocolError {
  override readonly code = 'RTT_ERR_CONNECT' as const;

  /**
   * @example
   * reject(new ConnectError(host, port, 'no such host', { cause: err }));
   */
  constructor(host: string, port: number, why: string, options?: ProtocolErrorOptions) {
    super(`cannot connect to ${host} port ${port}: ${why}`, ErrorCode.INTERNAL, options);
  }
}
brand(ConnectError, 'rtt.error.ConnectError');

/**
 * The connection ended under a client that did not close it: the server closed it, or the
 * network failed.
 * @example
 * new ConnectionLostError('the server closed the connection').code; // 'RTT_ERR_SERVER_GONE'
 */
export class ConnectionLostError extends ProtocolError {
  override readonly code = 'RTT_ERR_SERVER_GONE' as const;

  /**
   * @example
   * stream.once('close', () => fail(new ConnectionLostError('the server closed the connection')));
   */
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(message, ErrorCode.INTERNAL, options);
  }
}
brand(ConnectionLostError, 'rtt.error.ConnectionLostError');

/**
 * The client closed the connection itself; requests still in flight, or made later, fail so.
 * @example
 * new ConnectionClosedError().code; // 'RTT_ERR_CLOSED'
 */
export class ConnectionClosedError extends ProtocolError {
  override readonly code = 'RTT_ERR_CLOSED' as const;

  /**
   * @example
   * fail(new ConnectionClosedError());
   */
  constructor(options?: ProtocolErrorOptions) {
    super('the connection is closed', ErrorCode.INTERNAL, options);
  }
}
brand(ConnectionClosedError, 'rtt.error.ConnectionClosedError');

/**
 * Something the client waited for did not come in time.
 * @example
 * new TimeoutError('the key exchange', 10_000).message;
 * // 'the server did not finish the key exchange within 10 s'
 */
export class TimeoutError extends ProtocolError {
  override readonly code = 'RTT_ERR_TIMEOUT' as const;
  /** The time allowed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @example
   * client.fail(new TimeoutError('the key exchange', timeoutMs));
   */
  constructor(what: string, timeoutMs: number, options?: ProtocolErrorOptions) {
    super(
      `the server did not finish ${what} within ${timeoutMs / 1000} s`,
      ErrorCode.INTERNAL,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}
brand(TimeoutError, 'rtt.error.TimeoutError');

/**
 * The seed server sent bytes nobody asked for: before our key went out, or with no request
 * in flight (the seed wire has no framing, so such bytes cannot be placed).
 * @example
 * new UnexpectedDataError(5).code; // 'RTT_ERR_UNEXPECTED_DATA'
 */
export class UnexpectedDataError extends ProtocolError {
  override readonly code = 'RTT_ERR_UNEXPECTED_DATA';
  /** How many bytes came. */
  readonly length: number;

  /**
   * @example
   * onFailure(new UnexpectedDataError(chunk.length));
   */
  constructor(length: number, options?: ProtocolErrorOptions) {
    // The seed wire has no ERROR frame; MALFORMED_FRAME is what it would be on ours.
    super(`the server sent ${length} bytes nobody asked for`, ErrorCode.MALFORMED_FRAME, options);
    this.length = length;
  }
}
brand(UnexpectedDataError, 'rtt.error.UnexpectedDataError');

/**
 * The server answered a request id that this client never sent, or already had answered.
 * @example
 * new UnexpectedResponseError(5).code; // 'RTT_ERR_UNEXPECTED_ID'
 */
export class UnexpectedResponseError extends ProtocolError {
  override readonly code = 'RTT_ERR_UNEXPECTED_ID';
  /** The id the server answered. */
  readonly id: number;

  /**
   * @example
   * fail(new UnexpectedResponseError(message.id));
   */
  constructor(id: number, options?: ProtocolErrorOptions) {
    super(
      `the server answered request ${id}, which is not waiting for an answer`,
      ErrorCode.MALFORMED_FRAME,
      options,
    );
    this.id = id;
  }
}
brand(UnexpectedResponseError, 'rtt.error.UnexpectedResponseError');

/**
 * What a client reports for the server's ERROR frame: {@link ServerBusyError} for
 * SERVER_BUSY, a {@link ConnectionLostError} for IDLE_TIMEOUT (the server closed a connection
 * that sat idle: nothing went wrong, it is simply gone), a {@link ServerError} otherwise.
 * @example
 * onFailure(serverErrorFromFrame(frame.code, frame.message));
 */
export function serverErrorFromFrame(wireCode: number, serverMessage: string): ProtocolError {
  if (wireCode === ErrorCode.SERVER_BUSY) return new ServerBusyError(serverMessage);
  const error = new ServerError(wireCode, serverMessage);
  if (wireCode !== ErrorCode.IDLE_TIMEOUT) return error;
  return new ConnectionLostError(
    `the server closed the connection after it sat idle${serverMessage ? ` (${serverMessage})` : ''}`,
    { cause: error },
  );
}

/**
 * Our typed errors as they are; anything else (a broken random source, say) wrapped in a
 * {@link ProtocolError} with `message` and the original as `cause`.
 * @example
 * onFailure(toProtocolError(err, 'the key exchange failed'));
 */
export function toProtocolError(err: unknown, message: string): ProtocolError {
  return err instanceof ProtocolError
    ? err
    : new ProtocolError(message, ErrorCode.INTERNAL, { cause: err });
}
