import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../test/fixtures/hex.ts';
import { CipherId, GroupId, HelloStatus } from './constants.ts';
import {
  BadHelloError,
  BadPublicKeyError,
  UnsupportedCipherError,
  UnsupportedGroupError,
  UnsupportedVersionError,
} from './errors.ts';
import {
  assertClientHello,
  assertServerHello,
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeServerHello,
} from './hello.ts';

describe('hello encoding', () => {
  it('lays out a ClientHello: magic, version, cipher, group, public key u16', () => {
    expect(toHex(encodeClientHello({ cipher: CipherId.CAESAR, publicKey: 146 }))).toBe(
      '52 54 54 01 01 01 00 92',
    );
    expect(toHex(encodeClientHello({ version: 7, cipher: 0, group: 2, publicKey: 0xabcd }))).toBe(
      '52 54 54 07 00 02 ab cd',
    );
  });

  it('lays out a ServerHello: magic, version, status, cipher, public key u16', () => {
    expect(toHex(encodeServerHello({ cipher: CipherId.CAESAR, publicKey: 190 }))).toBe(
      '52 54 54 01 00 01 00 be',
    );
    expect(toHex(encodeServerHello({ status: HelloStatus.BAD_PUBLIC_KEY, cipher: 0 }))).toBe(
      '52 54 54 01 04 00 00 00',
    );
  });

  it('rejects bad arguments with TypeError or RangeError', () => {
    expect(() => encodeClientHello(null as never)).toThrow(TypeError);
    expect(() => encodeClientHello({ cipher: '1' as never, publicKey: 1 })).toThrow(TypeError);
    expect(() => encodeClientHello({ cipher: 256, publicKey: 1 })).toThrow(RangeError);
    expect(() => encodeClientHello({ cipher: 1, publicKey: 0x10000 })).toThrow(RangeError);
    expect(() => encodeClientHello({ cipher: 1, publicKey: 1.5 })).toThrow(RangeError);
    expect(() =>
      encodeServerHello({ status: HelloStatus.UNSUPPORTED_CIPHER, cipher: 0, publicKey: 5 }),
    ).toThrow(RangeError);
  });

  it('round-trips any field values', () => {
    const u8 = fc.integer({ min: 0, max: 255 });
    const u16 = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(u8, u8, u8, u16, (version, cipher, group, publicKey) => {
        const hello = { version, cipher, group, publicKey };
        expect(decodeClientHello(encodeClientHello(hello))).toEqual({
          type: 'client-hello',
          ...hello,
        });
      }),
    );
    fc.assert(
      fc.property(u8, u8, u16, (version, cipher, publicKey) => {
        const hello = { version, status: 0, cipher, publicKey };
        expect(decodeServerHello(encodeServerHello(hello))).toEqual({
          type: 'server-hello',
          ...hello,
        });
      }),
    );
  });

  it('decoding checks magic and size', () => {
    expect(() => decodeClientHello(Uint8Array.of(0x52, 0x54, 0x54, 1))).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_BAD_HELLO' }),
    );
    expect(() => decodeServerHello(Uint8Array.of(0x52, 0x54, 0x55, 1, 0, 1, 0, 1))).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_BAD_HELLO' }),
    );
  });
});

describe('assertClientHello', () => {
  const good = { version: 1, cipher: CipherId.CAESAR, group: GroupId.SEED, publicKey: 146 };

  it('accepts a valid hello', () => {
    expect(() => assertClientHello(good)).not.toThrow();
  });

  it('leaves the public key to the handshake, which checks it once, in full', () => {
    // handshake.test.ts has the BAD_PUBLIC_KEY answers to these.
    for (const publicKey of [0, 1, 3, 256, 257, 0xffff])
      expect(() => assertClientHello({ ...good, publicKey })).not.toThrow();
  });

  it('throws the refusal matching the ServerHello status', () => {
    const cases = [
      [{ ...good, version: 2 }, UnsupportedVersionError, 'RTT_ERR_UNSUPPORTED_VERSION'],
      [{ ...good, group: 9 }, UnsupportedGroupError, 'RTT_ERR_UNSUPPORTED_GROUP'],
      [{ ...good, cipher: 7 }, UnsupportedCipherError, 'RTT_ERR_UNSUPPORTED_CIPHER'],
    ] as const;
    for (const [hello, type, code] of cases) {
      expect(() => assertClientHello(hello)).toThrow(type);
      expect(() => assertClientHello(hello)).toThrow(expect.objectContaining({ code }));
    }
    expect(() =>
      assertClientHello({ ...good, cipher: CipherId.NONE }, { ciphers: [CipherId.CAESAR] }),
    ).toThrow(expect.objectContaining({ code: 'RTT_ERR_UNSUPPORTED_CIPHER' }));
  });
});

describe('assertServerHello', () => {
  const good = { version: 1, status: 0, cipher: CipherId.CAESAR, publicKey: 190 };

  it('accepts a valid OK hello', () => {
    expect(() => assertServerHello(good, { cipher: CipherId.CAESAR })).not.toThrow();
  });

  it('turns each refusal into its typed error', () => {
    const refused = (status: number) => ({ ...good, status, publicKey: 0 });
    const cases = [
      [HelloStatus.UNSUPPORTED_VERSION, UnsupportedVersionError, 'RTT_ERR_UNSUPPORTED_VERSION'],
      [HelloStatus.UNSUPPORTED_CIPHER, UnsupportedCipherError, 'RTT_ERR_UNSUPPORTED_CIPHER'],
      [HelloStatus.UNSUPPORTED_GROUP, UnsupportedGroupError, 'RTT_ERR_UNSUPPORTED_GROUP'],
      [HelloStatus.BAD_PUBLIC_KEY, BadPublicKeyError, 'RTT_ERR_BAD_PUBLIC_KEY'],
      [99, BadHelloError, 'RTT_ERR_BAD_HELLO'],
    ] as const;
    for (const [status, type, code] of cases) {
      expect(() => assertServerHello(refused(status))).toThrow(type);
      expect(() => assertServerHello(refused(status))).toThrow(expect.objectContaining({ code }));
    }
  });

  it('rejects a wrong version or another cipher than offered', () => {
    expect(() => assertServerHello({ ...good, version: 2 })).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_UNSUPPORTED_VERSION' }),
    );
    expect(() => assertServerHello(good, { cipher: CipherId.NONE })).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_UNSUPPORTED_CIPHER' }),
    );
  });

  it('leaves the public key to the handshake', () => {
    for (const publicKey of [0, 1, 183, 300])
      expect(() => assertServerHello({ ...good, publicKey })).not.toThrow();
  });
});
