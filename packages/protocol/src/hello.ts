import { assertBytes, assertInteger } from '@rtt/cipher/assert';
import {
  CipherId,
  GroupId,
  groupForId,
  HELLO_SIZE,
  HelloStatus,
  MAGIC,
  PROTOCOL_VERSION,
} from './constants.ts';
import {
  BadHelloError,
  BadPublicKeyError,
  UnsupportedCipherError,
  UnsupportedGroupError,
  UnsupportedVersionError,
} from './errors.ts';
import type {
  ClientHello,
  ClientHelloMessage,
  ServerHello,
  ServerHelloMessage,
} from './messages.ts';

/** Fields for {@link encodeClientHello}; `version` and `group` have defaults. */
export interface ClientHelloInit {
  /** Defaults to `PROTOCOL_VERSION`. */
  readonly version?: number;
  /** Cipher id asked for. */
  readonly cipher: number;
  /** Defaults to `GroupId.SEED`. */
  readonly group?: number;
  /** The client's public key, u16. */
  readonly publicKey: number;
}

/** Fields for {@link encodeServerHello}; all but `cipher` have defaults. */
export interface ServerHelloInit {
  /** Defaults to `PROTOCOL_VERSION`. */
  readonly version?: number;
  /** Defaults to `HelloStatus.OK`. */
  readonly status?: number;
  /** The chosen cipher id. */
  readonly cipher: number;
  /** The server's public key, u16; must be 0 (the default) when `status` is not OK. */
  readonly publicKey?: number;
}

// Both hellos share one layout: magic, version, two u8 fields, public key u16.
function writeHello(version: number, b4: number, b5: number, publicKey: number): Uint8Array {
  const out = new Uint8Array(HELLO_SIZE);
  out.set(MAGIC, 0);
  out[3] = version;
  out[4] = b4;
  out[5] = b5;
  out[6] = publicKey >>> 8;
  out[7] = publicKey & 0xff;
  return out;
}

/**
 * Encodes the 8-byte cleartext ClientHello: `"RTT"`, version, cipher, group, public key u16.
 * @example
 * encodeClientHello({ cipher: CipherId.CAESAR, publicKey: 146 });
 * // Uint8Array [0x52, 0x54, 0x54, 0x01, 0x01, 0x01, 0x00, 0x92]
 */
export function encodeClientHello(init: ClientHelloInit): Uint8Array {
  if (typeof init !== 'object' || init === null) throw new TypeError('hello must be an object');
  const version = assertInteger(init.version ?? PROTOCOL_VERSION, 'hello.version', 0, 0xff);
  const cipher = assertInteger(init.cipher, 'hello.cipher', 0, 0xff);
  const group = assertInteger(init.group ?? GroupId.SEED, 'hello.group', 0, 0xff);
  const publicKey = assertInteger(init.publicKey, 'hello.publicKey', 0, 0xffff);
  return writeHello(version, cipher, group, publicKey);
}

/**
 * Encodes the 8-byte cleartext ServerHello: `"RTT"`, version, status, cipher, public key u16.
 * @example
 * encodeServerHello({ cipher: CipherId.CAESAR, publicKey: 190 });
 * // Uint8Array [0x52, 0x54, 0x54, 0x01, 0x00, 0x01, 0x00, 0xbe]
 * encodeServerHello({ status: HelloStatus.UNSUPPORTED_CIPHER, cipher: CipherId.NONE });
 */
export function encodeServerHello(init: ServerHelloInit): Uint8Array {
  if (typeof init !== 'object' || init === null) throw new TypeError('hello must be an object');
  const version = assertInteger(init.version ?? PROTOCOL_VERSION, 'hello.version', 0, 0xff);
  const status = assertInteger(init.status ?? HelloStatus.OK, 'hello.status', 0, 0xff);
  const cipher = assertInteger(init.cipher, 'hello.cipher', 0, 0xff);
  const publicKey = assertInteger(init.publicKey ?? 0, 'hello.publicKey', 0, 0xffff);
  if (status !== HelloStatus.OK && publicKey !== 0) {
    throw new RangeError(`hello.publicKey must be 0 when status is not OK, got ${publicKey}`);
  }
  return writeHello(version, status, cipher, publicKey);
}

/**
 * How many leading bytes of `bytes` (at most 3) match the magic, or -1 if one differs.
 * Lets a reader reject garbage on its first byte instead of waiting for eight.
 * @example
 * checkMagicPrefix(Uint8Array.of(0x52, 0x54)); // 2
 * checkMagicPrefix(Uint8Array.of(0x31)); // -1
 */
export function checkMagicPrefix(bytes: Uint8Array): number {
  const n = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== MAGIC[i]) return -1;
  return n;
}

function readHello(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'bytes');
  if (bytes.length < HELLO_SIZE) {
    throw new BadHelloError(`a hello is ${HELLO_SIZE} bytes, got ${bytes.length}`);
  }
  if (checkMagicPrefix(bytes) !== MAGIC.length)
    throw new BadHelloError('bad magic, expected "RTT"');
  return bytes;
}

/**
 * Decodes a ClientHello from the first 8 bytes of `bytes`. Only the magic is checked;
 * whether the values are acceptable is {@link assertClientHello}'s business.
 * @example
 * decodeClientHello(Uint8Array.of(0x52, 0x54, 0x54, 1, 1, 1, 0x00, 0x92));
 * // { type: 'client-hello', version: 1, cipher: 1, group: 1, publicKey: 146 }
 */
export function decodeClientHello(bytes: Uint8Array): ClientHelloMessage {
  const b = readHello(bytes);
  return {
    type: 'client-hello',
    version: b[3] as number,
    cipher: b[4] as number,
    group: b[5] as number,
    publicKey: ((b[6] as number) << 8) | (b[7] as number),
  };
}

/**
 * Decodes a ServerHello from the first 8 bytes of `bytes`. Only the magic is checked;
 * see {@link assertServerHello}.
 * @example
 * decodeServerHello(Uint8Array.of(0x52, 0x54, 0x54, 1, 0, 1, 0x00, 0xbe));
 * // { type: 'server-hello', version: 1, status: 0, cipher: 1, publicKey: 190 }
 */
export function decodeServerHello(bytes: Uint8Array): ServerHelloMessage {
  const b = readHello(bytes);
  return {
    type: 'server-hello',
    version: b[3] as number,
    status: b[4] as number,
    cipher: b[5] as number,
    publicKey: ((b[6] as number) << 8) | (b[7] as number),
  };
}

/** Options for {@link assertClientHello}. */
export interface AssertClientHelloOptions {
  /** Cipher ids the server accepts; defaults to all known (`NONE`, `CAESAR`). */
  readonly ciphers?: readonly number[];
}

/**
 * The server's check of a ClientHello: version, group and cipher. Throws the refusal to
 * report, whose `helloStatus` is the ServerHello status to answer with (then close).
 * The public key is not looked at here: checking it needs the group's arithmetic, and the
 * handshake does it once, in full (`validatePublicKey` of `@rtt/cipher`: in the generator's
 * subgroup and not degenerate), answering a bad one with `BadPublicKeyError`.
 * @throws {UnsupportedVersionError | UnsupportedGroupError | UnsupportedCipherError}
 * @example
 * try {
 *   assertClientHello(hello, { ciphers: [CipherId.CAESAR] });
 * } catch (err) {
 *   if (err instanceof HelloRejectedError) {
 *     framed.sendServerHello({ status: err.helloStatus, cipher: CipherId.NONE });
 *     framed.socket.end();
 *   }
 * }
 */
export function assertClientHello(
  hello: ClientHello,
  options: AssertClientHelloOptions = {},
): void {
  const ciphers = options.ciphers ?? [CipherId.NONE, CipherId.CAESAR];
  if (hello.version !== PROTOCOL_VERSION) throw new UnsupportedVersionError(hello.version);
  if (groupForId(hello.group) === undefined) throw new UnsupportedGroupError(hello.group);
  if (!ciphers.includes(hello.cipher)) throw new UnsupportedCipherError(hello.cipher);
}

/** Options for {@link assertServerHello}. */
export interface AssertServerHelloOptions {
  /** The cipher id the client offered; the server must choose it. */
  readonly cipher?: number;
  /**
   * The group the client asked for, named in an UNSUPPORTED_GROUP refusal; defaults to
   * `GroupId.SEED`.
   */
  readonly group?: number;
}

/**
 * The client's check of a ServerHello: throws the typed refusal for a non-OK status (a
 * BAD_PUBLIC_KEY status is a `BadPublicKeyError`), a version other than ours, or a cipher
 * other than the one offered. As in {@link assertClientHello}, the server's public key is
 * left to the handshake, which validates it once.
 * @throws {UnsupportedVersionError | UnsupportedGroupError | UnsupportedCipherError | BadPublicKeyError}
 * @example
 * assertServerHello(hello, { cipher: CipherId.CAESAR }); // returns when the handshake may go on
 */
export function assertServerHello(
  hello: ServerHello,
  options: AssertServerHelloOptions = {},
): void {
  switch (hello.status) {
    case HelloStatus.OK:
      break;
    case HelloStatus.UNSUPPORTED_VERSION:
      throw new UnsupportedVersionError(PROTOCOL_VERSION);
    case HelloStatus.UNSUPPORTED_CIPHER:
      throw new UnsupportedCipherError(options.cipher ?? hello.cipher);
    case HelloStatus.UNSUPPORTED_GROUP:
      throw new UnsupportedGroupError(options.group ?? GroupId.SEED);
    case HelloStatus.BAD_PUBLIC_KEY:
      throw new BadPublicKeyError(0);
    default:
      throw new BadHelloError(`unknown hello status ${hello.status}`);
  }
  if (hello.version !== PROTOCOL_VERSION) throw new UnsupportedVersionError(hello.version);
  if (options.cipher !== undefined && hello.cipher !== options.cipher) {
    throw new UnsupportedCipherError(hello.cipher);
  }
}
