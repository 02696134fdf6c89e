import type { ByteCipher } from '@rtt/cipher';
import { assertByteCipher, assertBytes, assertInteger, assertString } from '@rtt/cipher/assert';
import {
  DEFAULT_MAX_FRAME_SIZE,
  FrameType,
  LENGTH_PREFIX_SIZE,
  MAX_U32,
  MIN_MAX_FRAME_SIZE,
} from './constants.ts';

/**
 * An encoded frame as two buffers: the header (length prefix, type and fixed fields) and
 * the payload. Writing them back to back (inside `cork()`/`uncork()`) sends the frame
 * without copying the payload into the header.
 */
export type FrameParts = [header: Uint8Array, payload: Uint8Array];

/** Size of a REQUEST or RESPONSE header: length u32, type u8, id u32, command/status u8. */
export const MESSAGE_HEADER_SIZE = 10;

/** Size of an ERROR header: length u32, type u8, code u8. */
export const ERROR_HEADER_SIZE = 6;

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

/**
 * Checks a `maxFrameSize` option: an integer in 6..2^32-1.
 * @example
 * assertMaxFrameSize(65_536); // 65536
 * assertMaxFrameSize(0); // throws RangeError
 */
export function assertMaxFrameSize(value: unknown, name = 'maxFrameSize'): number {
  return assertInteger(value, name, MIN_MAX_FRAME_SIZE, MAX_U32);
}

function toPayload(
  name: string,
  payload: Uint8Array | string,
): { bytes: Uint8Array; owned: boolean } {
  if (typeof payload === 'string') return { bytes: utf8.encode(payload), owned: true };
  return { bytes: assertBytes(payload, name), owned: false };
}

function frame(
  header: Uint8Array,
  payloadIn: Uint8Array | string,
  cipher: ByteCipher | null | undefined,
  maxFrameSize: number,
): FrameParts {
  if (cipher !== null && cipher !== undefined) assertByteCipher(cipher, 'cipher');
  const max = assertMaxFrameSize(maxFrameSize);
  const { bytes, owned } = toPayload('payload', payloadIn);
  const bodyLength = header.length - LENGTH_PREFIX_SIZE + bytes.length;
  if (bodyLength > max) {
    throw new RangeError(
      `payload must be at most ${max - (header.length - LENGTH_PREFIX_SIZE)} bytes, got ${bytes.length}`,
    );
  }
  new DataView(header.buffer, header.byteOffset, header.byteLength).setUint32(0, bodyLength);
  if (!cipher) return [header, bytes];
  // The whole body is encrypted: header fields after the length, then the payload, which
  // belongs to the caller and so is encrypted as a copy.
  cipher.encrypt(header.subarray(LENGTH_PREFIX_SIZE));
  if (bytes.length === 0) return [header, EMPTY];
  const payload = owned ? bytes : bytes.slice();
  cipher.encrypt(payload);
  return [header, payload];
}

function messageHeader(type: number, id: number, code: number): Uint8Array {
  const header = new Uint8Array(MESSAGE_HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint8(4, type);
  view.setUint32(5, id);
  view.setUint8(9, code);
  return header;
}

/**
 * Encodes a REQUEST frame. Without a cipher the returned payload is the caller's own
 * bytes; with one, both parts are fresh encrypted buffers and the caller's are untouched.
 * @param id request id, u32, chosen by the client
 * @param command command code (u8; unknown codes are allowed, the server answers them)
 * @param payload request payload (strings are UTF-8 encoded); empty by default
 * @param cipher encrypts the whole body; `null`/omitted for cleartext
 * @param maxFrameSize the body limit the peer enforces (default 65536)
 * @throws {TypeError | RangeError} for a bad argument or a body over `maxFrameSize`
 * @example
 * const [header, payload] = encodeRequest(1, Command.TIME);
 * socket.cork(); socket.write(header); socket.write(payload); socket.uncork();
 */
export function encodeRequest(
  id: number,
  command: number,
  payload: Uint8Array | string = EMPTY,
  cipher: ByteCipher | null = null,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): FrameParts {
  assertInteger(id, 'id', 0, MAX_U32);
  assertInteger(command, 'command', 0, 0xff);
  return frame(messageHeader(FrameType.REQUEST, id, command), payload, cipher, maxFrameSize);
}

/**
 * Encodes a RESPONSE frame (strings are UTF-8 encoded). Same buffer rules as
 * {@link encodeRequest}.
 * @example
 * const parts = encodeResponse(1, Status.OK, '14:03:07.123456', caesar);
 * framed.send(parts);
 */
export function encodeResponse(
  id: number,
  status: number,
  payload: Uint8Array | string = EMPTY,
  cipher: ByteCipher | null = null,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): FrameParts {
  assertInteger(id, 'id', 0, MAX_U32);
  assertInteger(status, 'status', 0, 0xff);
  return frame(messageHeader(FrameType.RESPONSE, id, status), payload, cipher, maxFrameSize);
}

/**
 * Encodes a fatal ERROR frame: error code u8 and a UTF-8 message. The server closes
 * right after sending it.
 * @example
 * const parts = encodeError(ErrorCode.SHUTTING_DOWN, 'server closing', caesar);
 */
export function encodeError(
  code: number,
  message = '',
  cipher: ByteCipher | null = null,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): FrameParts {
  assertInteger(code, 'code', 0, 0xff);
  assertString(message, 'message');
  const header = new Uint8Array(ERROR_HEADER_SIZE);
  header[4] = FrameType.ERROR;
  header[5] = code;
  return frame(header, message, cipher, maxFrameSize);
}

/**
 * Joins frame parts into one buffer, for tests and transports that want a single write.
 * @example
 * const bytes = concatFrame(encodeRequest(7, Command.PING, 'hi'));
 */
export function concatFrame(parts: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(parts)) throw new TypeError('parts must be an array of Uint8Array');
  let total = 0;
  for (const part of parts) total += assertBytes(part, 'parts[i]').length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
