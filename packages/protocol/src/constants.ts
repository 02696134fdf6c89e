/**
 * Every number that appears on the rtt wire, each set in one `as const` map with a reverse
 * lookup, so code and tests say `Command.TIME` instead of a bare `1`.
 */

import { type DhGroup, SEED_GROUP } from '@rtt/cipher';

/** The three magic bytes `"RTT"` that open every hello. `0x52` is never an ASCII digit. */
export const MAGIC = [0x52, 0x54, 0x54] as const;

/** The framed protocol version this package speaks. */
export const PROTOCOL_VERSION = 1;

/** Size in bytes of a ClientHello and of a ServerHello. */
export const HELLO_SIZE = 8;

/** Size in bytes of the big-endian u32 length that precedes every frame body. */
export const LENGTH_PREFIX_SIZE = 4;

/** Default upper bound for a frame body, in bytes (64 KiB). */
export const DEFAULT_MAX_FRAME_SIZE = 65_536;

/**
 * The smallest `maxFrameSize` accepted: a REQUEST or RESPONSE body without payload
 * (type u8, request id u32, command or status u8).
 */
export const MIN_MAX_FRAME_SIZE = 6;

/** The largest body length a u32 prefix can express. */
export const MAX_U32 = 0xffff_ffff;

/**
 * How many hello rounds a connection may take. A round whose shared key is weak (Caesar
 * key 0, i.e. no encryption) is followed by another; after this many the server gives up
 * with `ErrorCode.TOO_MANY_REKEYS`.
 */
export const MAX_HELLO_ROUNDS = 8;

/** Frame types: the first byte of every frame body. */
export const FrameType = {
  REQUEST: 0x01,
  RESPONSE: 0x02,
  ERROR: 0x03,
} as const;
/** A frame type code. */
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];
/** A frame type name. */
export type FrameTypeName = keyof typeof FrameType;

/** Request commands. Unknown codes still decode; the server answers `UNKNOWN_COMMAND`. */
export const Command = {
  TIME: 0x01,
  DATE: 0x02,
  TEMP: 0x03,
  PING: 0x04,
  /** The server's clock for programs: microseconds since the Unix epoch, decimal ASCII. */
  CLOCK: 0x05,
} as const;
/** A known command code. */
export type CommandCode = (typeof Command)[keyof typeof Command];
/** A known command name. */
export type CommandName = keyof typeof Command;

/** RESPONSE statuses. */
export const Status = {
  OK: 0x00,
  UNKNOWN_COMMAND: 0x01,
  BAD_REQUEST: 0x02,
  UNAVAILABLE: 0x03,
  INTERNAL_ERROR: 0x04,
} as const;
/** A known response status code. */
export type StatusCode = (typeof Status)[keyof typeof Status];
/** A known response status name. */
export type StatusName = keyof typeof Status;

/** ServerHello statuses. Anything but `OK` is followed by the server closing. */
export const HelloStatus = {
  OK: 0,
  UNSUPPORTED_VERSION: 1,
  UNSUPPORTED_CIPHER: 2,
  UNSUPPORTED_GROUP: 3,
  BAD_PUBLIC_KEY: 4,
} as const;
/** A known ServerHello status code. */
export type HelloStatusCode = (typeof HelloStatus)[keyof typeof HelloStatus];
/** A known ServerHello status name. */
export type HelloStatusName = keyof typeof HelloStatus;

/** Cipher ids offered in the ClientHello and chosen in the ServerHello. */
export const CipherId = {
  NONE: 0,
  CAESAR: 1,
} as const;
/** A known cipher id. */
export type CipherIdCode = (typeof CipherId)[keyof typeof CipherId];
/** A known cipher name. */
export type CipherIdName = keyof typeof CipherId;

/** Diffie-Hellman groups. */
export const GroupId = {
  SEED: 1,
} as const;
/** A known group id. */
export type GroupIdCode = (typeof GroupId)[keyof typeof GroupId];
/** A known group name. */
export type GroupIdName = keyof typeof GroupId;

/**
 * The Diffie-Hellman group behind each group id. The numbers live in `@rtt/cipher` alone
 * (`SEED_GROUP`: prime 257, generator 11); the wire only adds the id that names them.
 */
export const GROUPS: Readonly<Record<GroupIdCode, DhGroup>> = Object.freeze({
  [GroupId.SEED]: SEED_GROUP,
});

/**
 * The group a hello's group id names, or `undefined` for an id this version does not know
 * (inherited keys such as `'constructor'` included).
 * @example
 * groupForId(GroupId.SEED); // SEED_GROUP: { name: 'seed-257', prime: 257, generator: 11 }
 * groupForId(9); // undefined
 */
export function groupForId(id: number): DhGroup | undefined {
  return Object.hasOwn(GROUPS, id) ? GROUPS[id as GroupIdCode] : undefined;
}

/** Codes carried by the fatal ERROR frame. */
export const ErrorCode = {
  FRAME_TOO_LARGE: 1,
  MALFORMED_FRAME: 2,
  BAD_HELLO: 3,
  HANDSHAKE_TIMEOUT: 4,
  SHUTTING_DOWN: 5,
  TOO_MANY_REKEYS: 6,
  INTERNAL: 7,
  IDLE_TIMEOUT: 8,
  SERVER_BUSY: 9,
} as const;
/** A known ERROR frame code. */
export type ErrorCodeCode = (typeof ErrorCode)[keyof typeof ErrorCode];
/** A known ERROR frame code name. */
export type ErrorCodeName = keyof typeof ErrorCode;

type CodeMap = Readonly<Record<string, number>>;

// One reverse table per map, built once; names match case-insensitively because users type them.
function lookups<M extends CodeMap>(map: M) {
  const byCode = new Map<number, keyof M & string>();
  for (const [name, code] of Object.entries(map)) byCode.set(code, name);
  return {
    name: (code: number): (keyof M & string) | undefined => byCode.get(code),
    fromName: (name: string): M[keyof M] | undefined => {
      if (typeof name !== 'string') return undefined;
      const key = name.trim().toUpperCase();
      return Object.hasOwn(map, key) ? (map[key] as M[keyof M]) : undefined;
    },
  };
}

const commands = lookups(Command);
const statuses = lookups(Status);
const helloStatuses = lookups(HelloStatus);
const cipherIds = lookups(CipherId);
const groupIds = lookups(GroupId);
const errorCodes = lookups(ErrorCode);
const frameTypes = lookups(FrameType);

/**
 * The name of a command code, or `undefined` for a code this version does not know.
 * @example
 * commandName(1); // 'TIME'
 * commandName(99); // undefined
 */
export const commandName: (code: number) => CommandName | undefined = commands.name;

/**
 * The code of a command name (case-insensitive, surrounding whitespace ignored).
 * @example
 * commandFromName('time'); // 1
 * commandFromName('nope'); // undefined
 */
export const commandFromName: (name: string) => CommandCode | undefined = commands.fromName;

/**
 * The name of a RESPONSE status code.
 * @example
 * statusName(0); // 'OK'
 */
export const statusName: (code: number) => StatusName | undefined = statuses.name;

/**
 * The code of a RESPONSE status name (case-insensitive).
 * @example
 * statusFromName('unknown_command'); // 1
 */
export const statusFromName: (name: string) => StatusCode | undefined = statuses.fromName;

/**
 * The name of a ServerHello status code.
 * @example
 * helloStatusName(4); // 'BAD_PUBLIC_KEY'
 */
export const helloStatusName: (code: number) => HelloStatusName | undefined = helloStatuses.name;

/**
 * The code of a ServerHello status name (case-insensitive).
 * @example
 * helloStatusFromName('ok'); // 0
 */
export const helloStatusFromName: (name: string) => HelloStatusCode | undefined =
  helloStatuses.fromName;

/**
 * The name of a cipher id.
 * @example
 * cipherIdName(1); // 'CAESAR'
 */
export const cipherIdName: (code: number) => CipherIdName | undefined = cipherIds.name;

/**
 * The id of a cipher name (case-insensitive).
 * @example
 * cipherIdFromName('caesar'); // 1
 */
export const cipherIdFromName: (name: string) => CipherIdCode | undefined = cipherIds.fromName;

/**
 * The name of a group id.
 * @example
 * groupIdName(1); // 'SEED'
 */
export const groupIdName: (code: number) => GroupIdName | undefined = groupIds.name;

/**
 * The id of a group name (case-insensitive).
 * @example
 * groupIdFromName('seed'); // 1
 */
export const groupIdFromName: (name: string) => GroupIdCode | undefined = groupIds.fromName;

/**
 * The name of an ERROR frame code.
 * @example
 * errorCodeName(6); // 'TOO_MANY_REKEYS'
 */
export const errorCodeName: (code: number) => ErrorCodeName | undefined = errorCodes.name;

/**
 * The code of an ERROR frame code name (case-insensitive).
 * @example
 * errorCodeFromName('shutting_down'); // 5
 */
export const errorCodeFromName: (name: string) => ErrorCodeCode | undefined = errorCodes.fromName;

/**
 * The name of a frame type.
 * @example
 * frameTypeName(2); // 'RESPONSE'
 */
export const frameTypeName: (code: number) => FrameTypeName | undefined = frameTypes.name;

/**
 * The code of a frame type name (case-insensitive).
 * @example
 * frameTypeFromName('error'); // 3
 */
export const frameTypeFromName: (name: string) => FrameTypeCode | undefined = frameTypes.fromName;
