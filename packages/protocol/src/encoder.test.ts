import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caesar } from '../test/fixtures/caesar.ts';
import { toHex } from '../test/fixtures/hex.ts';
import { Command, ErrorCode, Status } from './constants.ts';
import {
  concatFrame,
  ERROR_HEADER_SIZE,
  encodeError,
  encodeRequest,
  encodeResponse,
  MESSAGE_HEADER_SIZE,
} from './encoder.ts';

describe('encoder', () => {
  it('encodes a REQUEST header as length, type, id, command, with the payload apart', () => {
    const payload = new TextEncoder().encode('ping');
    const [header, body] = encodeRequest(0x01020304, Command.PING, payload);
    expect(header.length).toBe(MESSAGE_HEADER_SIZE);
    expect(toHex(header)).toBe('00 00 00 0a 01 01 02 03 04 04');
    expect(body).toBe(payload); // no cipher: the caller's bytes, not a copy
  });

  it('encodes a RESPONSE with a UTF-8 string payload', () => {
    const [header, body] = encodeResponse(7, Status.OK, '6°C');
    expect(toHex(header)).toBe('00 00 00 0a 02 00 00 00 07 00');
    expect(toHex(body)).toBe('36 c2 b0 43');
  });

  it('encodes an ERROR as length, type, code, message', () => {
    const [header, body] = encodeError(ErrorCode.SHUTTING_DOWN, 'bye');
    expect(header.length).toBe(ERROR_HEADER_SIZE);
    expect(toHex(concatFrame([header, body]))).toBe('00 00 00 05 03 05 62 79 65');
    expect(toHex(concatFrame(encodeError(ErrorCode.INTERNAL)))).toBe('00 00 00 02 03 07');
  });

  it('encrypts the whole body but never the length, and never mutates the caller payload', () => {
    const payload = Uint8Array.of(1, 2, 3);
    const [header, body] = encodeRequest(1, Command.PING, payload, caesar(10));
    expect(toHex(header)).toBe('00 00 00 09 0b 0a 0a 0a 0b 0e');
    expect(toHex(body)).toBe('0b 0c 0d');
    expect(body).not.toBe(payload);
    expect([...payload]).toEqual([1, 2, 3]);
  });

  it('encrypting header and payload separately equals encrypting the body at once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 64 }),
        (key, payload) => {
          const plain = concatFrame(encodeResponse(9, Status.OK, payload));
          const whole = plain.slice();
          caesar(key).encrypt(whole.subarray(4));
          expect(concatFrame(encodeResponse(9, Status.OK, payload, caesar(key)))).toEqual(whole);
        },
      ),
    );
  });

  it('validates ids, codes, payload types and cipher shape', () => {
    expect(() => encodeRequest(-1, 1)).toThrow(RangeError);
    expect(() => encodeRequest(2 ** 32, 1)).toThrow(RangeError);
    expect(() => encodeRequest(1.5, 1)).toThrow(RangeError);
    expect(() => encodeRequest('1' as never, 1)).toThrow(TypeError);
    expect(() => encodeRequest(1, 256)).toThrow(RangeError);
    expect(() => encodeResponse(1, -1)).toThrow(RangeError);
    expect(() => encodeError(300, 'x')).toThrow(RangeError);
    expect(() => encodeError(1, 5 as never)).toThrow(TypeError);
    expect(() => encodeRequest(1, 1, [1, 2] as never)).toThrow(TypeError);
    expect(() => encodeRequest(1, 1, undefined, {} as never)).toThrow(TypeError);
    expect(encodeRequest(0xffff_ffff, 255)[0].length).toBe(MESSAGE_HEADER_SIZE);
  });

  it('limits the body to maxFrameSize', () => {
    expect(encodeRequest(1, 1, new Uint8Array(65_536 - 6))[1].length).toBe(65_530);
    expect(() => encodeRequest(1, 1, new Uint8Array(65_536 - 5))).toThrow(RangeError);
    expect(() => encodeResponse(1, 0, 'x'.repeat(11), null, 16)).toThrow(RangeError);
    expect(() => encodeError(1, 'x'.repeat(14), null, 16)).not.toThrow();
    expect(() => encodeRequest(1, 1, undefined, null, 5)).toThrow(RangeError);
  });

  it('concatFrame joins parts', () => {
    expect([...concatFrame([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)])]).toEqual([
      1, 2, 3,
    ]);
    expect(() => concatFrame('x' as never)).toThrow(TypeError);
  });
});
