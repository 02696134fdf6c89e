import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ByteCipher, createCaesarCipher, NULL_CIPHER } from './byte-cipher.ts';
import { caesarEncrypt } from './caesar.ts';

describe('createCaesarCipher', () => {
  it('normalises its key and is frozen', () => {
    const cipher = createCaesarCipher(260);
    expect(cipher.name).toBe('caesar');
    expect(cipher.key).toBe(4);
    expect(createCaesarCipher(-1).key).toBe(255);
    expect(Object.isFrozen(cipher)).toBe(true);
  });

  it('encrypts in place exactly like caesarEncrypt, and decrypts back', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.integer({ min: -1000, max: 1000 }), (data, key) => {
        const cipher = createCaesarCipher(key);
        const bytes = data.slice();
        cipher.encrypt(bytes);
        expect(bytes).toEqual(caesarEncrypt(data, key));
        cipher.decrypt(bytes);
        expect(bytes).toEqual(data);
      }),
    );
  });

  it('changes only the view it is handed', () => {
    const frame = new TextEncoder().encode('..HELLOWORLD..');
    createCaesarCipher(4).encrypt(frame.subarray(2, 12));
    expect(new TextDecoder().decode(frame)).toBe('..LIPPS[SVPH..');
  });

  it('rejects bad keys and bad data with TypeError / RangeError', () => {
    expect(() => createCaesarCipher(1.5)).toThrow(RangeError);
    expect(() => createCaesarCipher('4' as never)).toThrow(TypeError);
    expect(() => createCaesarCipher(4).encrypt([1, 2] as never)).toThrow(TypeError);
    expect(() => createCaesarCipher(4).decrypt('AB' as never)).toThrow(TypeError);
  });
});

describe('NULL_CIPHER', () => {
  it('leaves bytes as they are', () => {
    const bytes = Uint8Array.of(0, 1, 255);
    NULL_CIPHER.encrypt(bytes);
    NULL_CIPHER.decrypt(bytes);
    expect(bytes).toEqual(Uint8Array.of(0, 1, 255));
    expect(NULL_CIPHER.name).toBe('none');
    expect(NULL_CIPHER.key).toBe(0);
    expect(Object.isFrozen(NULL_CIPHER)).toBe(true);
  });

  it('still checks its argument', () => {
    expect(() => NULL_CIPHER.encrypt('AB' as never)).toThrow(TypeError);
  });
});

describe('ByteCipher', () => {
  it('is what both ciphers are, so the framing layer can hold either', () => {
    expectTypeOf(createCaesarCipher(1)).toExtend<ByteCipher>();
    expectTypeOf(NULL_CIPHER).toExtend<ByteCipher>();
    const ciphers: ByteCipher[] = [createCaesarCipher(1), NULL_CIPHER];
    expect(ciphers.map((cipher) => cipher.name)).toEqual(['caesar', 'none']);
  });
});
