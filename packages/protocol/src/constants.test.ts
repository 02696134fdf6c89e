import { SEED_GROUP } from '@rtt/cipher';
import { describe, expect, it } from 'vitest';
import {
  CipherId,
  Command,
  cipherIdFromName,
  cipherIdName,
  commandFromName,
  commandName,
  ErrorCode,
  errorCodeFromName,
  errorCodeName,
  FrameType,
  frameTypeFromName,
  frameTypeName,
  GROUPS,
  GroupId,
  groupForId,
  groupIdFromName,
  groupIdName,
  HelloStatus,
  helloStatusFromName,
  helloStatusName,
  MAGIC,
  Status,
  statusFromName,
  statusName,
} from './constants.ts';

const tables = [
  ['Command', Command, commandName, commandFromName],
  ['Status', Status, statusName, statusFromName],
  ['HelloStatus', HelloStatus, helloStatusName, helloStatusFromName],
  ['CipherId', CipherId, cipherIdName, cipherIdFromName],
  ['GroupId', GroupId, groupIdName, groupIdFromName],
  ['ErrorCode', ErrorCode, errorCodeName, errorCodeFromName],
  ['FrameType', FrameType, frameTypeName, frameTypeFromName],
] as const;

describe('code tables', () => {
  it('have the wire values of the protocol', () => {
    expect(Command).toEqual({ TIME: 1, DATE: 2, TEMP: 3, PING: 4, CLOCK: 5 });
    expect(Status).toEqual({
      OK: 0,
      UNKNOWN_COMMAND: 1,
      BAD_REQUEST: 2,
      UNAVAILABLE: 3,
      INTERNAL_ERROR: 4,
    });
    expect(HelloStatus).toEqual({
      OK: 0,
      UNSUPPORTED_VERSION: 1,
      UNSUPPORTED_CIPHER: 2,
      UNSUPPORTED_GROUP: 3,
      BAD_PUBLIC_KEY: 4,
    });
    expect(CipherId).toEqual({ NONE: 0, CAESAR: 1 });
    expect(GroupId).toEqual({ SEED: 1 });
    expect(ErrorCode).toEqual({
      FRAME_TOO_LARGE: 1,
      MALFORMED_FRAME: 2,
      BAD_HELLO: 3,
      HANDSHAKE_TIMEOUT: 4,
      SHUTTING_DOWN: 5,
      TOO_MANY_REKEYS: 6,
      INTERNAL: 7,
      IDLE_TIMEOUT: 8,
      SERVER_BUSY: 9,
    });
    expect(FrameType).toEqual({ REQUEST: 1, RESPONSE: 2, ERROR: 3 });
    expect([...MAGIC]).toEqual([0x52, 0x54, 0x54]);
  });

  it.each(tables)(
    '%s: name and fromName invert each other, case-insensitively',
    (_, map, name, fromName) => {
      const codes = Object.values(map) as number[];
      expect(new Set(codes).size).toBe(codes.length);
      for (const [key, code] of Object.entries(map)) {
        expect(name(code)).toBe(key);
        expect(fromName(key)).toBe(code);
        expect(fromName(` ${key.toLowerCase()} `)).toBe(code);
      }
    },
  );

  it('map each group id to the group of @rtt/cipher itself, not to a copy of its numbers', () => {
    expect(GROUPS[GroupId.SEED]).toBe(SEED_GROUP);
    expect(groupForId(GroupId.SEED)).toBe(SEED_GROUP);
    expect(groupForId(GroupId.SEED)).toMatchObject({ prime: 257, generator: 11 });
    expect(Object.keys(GROUPS).map(Number).sort()).toEqual(Object.values(GroupId).sort());
    for (const id of [0, 2, 255, -1, 1.5]) expect(groupForId(id)).toBeUndefined();
    expect(groupForId('constructor' as unknown as number)).toBeUndefined();
  });

  it('unknown codes and names give undefined, including inherited keys', () => {
    expect(commandName(0x09)).toBeUndefined();
    expect(commandFromName('nope')).toBeUndefined();
    expect(commandFromName('toString')).toBeUndefined();
    expect(commandFromName('__proto__')).toBeUndefined();
    expect(statusName(-1)).toBeUndefined();
    expect(commandFromName(42 as unknown as string)).toBeUndefined();
  });
});
