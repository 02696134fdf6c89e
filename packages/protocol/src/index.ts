/**
 * `@rtt/protocol`: the rtt wire format (hello, length-prefixed frames, command and status
 * codes, an incremental decoder and an encoder), the seed's unframed wire, and both sides of
 * a connection on either wire as pure sessions with no socket in them (`FramedServerSession`,
 * `FramedClientSession`, `SeedServerSession`, `SeedClientSession`, and `ServerConnection`,
 * which tells the wires apart and times the handshake), plus the answers' text formats.
 * Depends only on `@rtt/cipher`, `Uint8Array` only: runs in Node >= 20 and in browsers.
 * `@rtt/protocol/node` binds the sessions to Node streams (`serveConnection`, `connect`).
 * @module
 */

export {
  createAnswerer,
  formatDate,
  formatTemperature,
  formatTime,
  nowMicros,
  type TemperatureReading,
} from './answers.ts';
export {
  CipherId,
  type CipherIdCode,
  type CipherIdName,
  Command,
  type CommandCode,
  type CommandName,
  cipherIdFromName,
  cipherIdName,
  commandFromName,
  commandName,
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  type ErrorCodeCode,
  type ErrorCodeName,
  errorCodeFromName,
  errorCodeName,
  FrameType,
  type FrameTypeCode,
  type FrameTypeName,
  frameTypeFromName,
  frameTypeName,
  GROUPS,
  GroupId,
  type GroupIdCode,
  type GroupIdName,
  groupForId,
  groupIdFromName,
  groupIdName,
  HELLO_SIZE,
  HelloStatus,
  type HelloStatusCode,
  type HelloStatusName,
  helloStatusFromName,
  helloStatusName,
  LENGTH_PREFIX_SIZE,
  MAGIC,
  MAX_HELLO_ROUNDS,
  MAX_U32,
  MIN_MAX_FRAME_SIZE,
  PROTOCOL_VERSION,
  Status,
  type StatusCode,
  type StatusName,
  statusFromName,
  statusName,
} from './constants.ts';
export { FrameDecoder, type FrameDecoderOptions } from './decoder.ts';
export {
  assertMaxFrameSize,
  concatFrame,
  ERROR_HEADER_SIZE,
  encodeError,
  encodeRequest,
  encodeResponse,
  type FrameParts,
  MESSAGE_HEADER_SIZE,
} from './encoder.ts';
export {
  BadHelloError,
  BadPublicKeyError,
  BadSeedKeyError,
  ConnectError,
  ConnectionClosedError,
  ConnectionLostError,
  FrameTooLargeError,
  HandshakeTimeoutError,
  HelloRejectedError,
  MalformedFrameError,
  NotReadyError,
  ProtocolError,
  type ProtocolErrorOptions,
  ServerError,
  ShuttingDownError,
  TimeoutError,
  TooManyRekeysError,
  UnexpectedDataError,
  UnexpectedResponseError,
  UnknownWireError,
  UnsupportedCipherError,
  UnsupportedCommandError,
  UnsupportedGroupError,
  UnsupportedVersionError,
} from './errors.ts';
export {
  FramedClientSession,
  type FramedClientSessionOptions,
} from './framed-client-session.ts';
export {
  FramedServerSession,
  type FramedServerSessionOptions,
} from './framed-server-session.ts';
export {
  ClientHandshake,
  type HandshakeOutcome,
  ServerHandshake,
  type ServerHelloResult,
} from './handshake.ts';
export {
  type AssertClientHelloOptions,
  type AssertServerHelloOptions,
  assertClientHello,
  assertServerHello,
  type ClientHelloInit,
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeServerHello,
  type ServerHelloInit,
} from './hello.ts';
export type {
  ClientHello,
  ClientHelloMessage,
  ClientInboundMessage,
  DecodedMessage,
  ErrorMessage,
  InboundMessage,
  RequestMessage,
  ResponseMessage,
  Role,
  ServerHello,
  ServerHelloMessage,
  ServerInboundMessage,
} from './messages.ts';
export { SeedClientSession, type SeedClientSessionOptions } from './seed-client-session.ts';
export { SeedServerSession, type SeedServerSessionOptions } from './seed-server-session.ts';
export {
  decodeSeedText,
  detectWire,
  encodeSeedPublicKey,
  encodeSeedText,
  isSeedCommand,
  parseSeedCommands,
  parseSeedPublicKey,
  SEED_COMMANDS,
  SEED_KEY_MAX_DIGITS,
  SEED_MAX_HELD_BYTES,
  SEED_QUIET_MS,
  type SeedCommand,
  SeedCommandReader,
  type SeedCommandReaderOptions,
  type SeedCommandScan,
  type SeedCommandScanOptions,
  SeedKeyReader,
  type SeedKeyReaderOptions,
  scanSeedCommands,
  type WireKind,
} from './seed-wire.ts';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  ServerConnection,
  type ServerConnectionOptions,
} from './server-connection.ts';
export {
  type AnsweredCommand,
  type Answerer,
  type Clock,
  type ServerSessionEvent,
  type ServerSessionListener,
  type SessionTransport,
  systemClock,
  type TimerHandle,
  type Wire,
} from './session.ts';
