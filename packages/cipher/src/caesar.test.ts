import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  caesarDecrypt,
  caesarDecryptInPlace,
  caesarEncrypt,
  caesarEncryptInPlace,
  caesarShiftLetters,
  normalizeCaesarKey,
} from './caesar.ts';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// Any integer a caller might pass: small, negative, beyond 2 ** 53, and the doubles' extremes.
const anyIntegerKey = fc.oneof(
  fc.integer({ min: -1024, max: 1024 }),
  fc.maxSafeInteger(),
  fc.constantFrom(2 ** 60, -(2 ** 60), 1e300, -1e300, Number.MAX_VALUE, -0),
);

describe('caesarEncrypt / caesarDecrypt', () => {
  it("matches the seed's example HELLOWORLD -> LIPPSASVPH except where letters wrap", () => {
    // The seed's example shifts within A..Z (W + 4 wraps to A); the byte-wise cipher the seed
    // then asks for works modulo 256 instead, so W + 4 is '[' (0x5b). Every other letter agrees.
    expect(decode(caesarEncrypt(encode('HELLOWORLD'), 4))).toBe('LIPPS[SVPH');
    expect(decode(caesarDecrypt(encode('LIPPS[SVPH'), 4))).toBe('HELLOWORLD');
    const alphabetic = [...'HELLOWORLD']
      .map((letter) => String.fromCharCode(65 + ((letter.charCodeAt(0) - 65 + 4) % 26)))
      .join('');
    expect(alphabetic).toBe('LIPPSASVPH');
    const byteWise = decode(caesarEncrypt(encode('HELLOWORLD'), 4));
    const differing = [...byteWise].filter((char, i) => char !== alphabetic[i]);
    expect(differing).toEqual(['[']);
  });

  it('wraps around modulo 256', () => {
    expect(caesarEncrypt(Uint8Array.of(0, 250, 255), 10)).toEqual(Uint8Array.of(10, 4, 9));
    expect(caesarDecrypt(Uint8Array.of(10, 4, 9), 10)).toEqual(Uint8Array.of(0, 250, 255));
  });

  it('adds the key to every byte, modulo 256', () => {
    fc.assert(
      fc.property(fc.uint8Array(), anyIntegerKey, (data, key) => {
        const shift = ((key % 256) + 256) % 256;
        const encrypted = caesarEncrypt(data, key);
        expect(encrypted).toHaveLength(data.length);
        for (const [i, byte] of data.entries()) expect(encrypted[i]).toBe((byte + shift) % 256);
      }),
    );
  });

  it('round-trips any bytes under any integer key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), anyIntegerKey, (data, key) => {
        expect(caesarDecrypt(caesarEncrypt(data, key), key)).toEqual(data);
        expect(caesarEncrypt(caesarDecrypt(data, key), key)).toEqual(data);
      }),
    );
  });

  it('treats keys that agree modulo 256 alike, and decryption as encryption with -key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array(),
        fc.integer({ min: -5000, max: 5000 }),
        fc.integer({ min: -50, max: 50 }),
        (data, key, turns) => {
          expect(caesarEncrypt(data, key + 256 * turns)).toEqual(caesarEncrypt(data, key));
          expect(caesarDecrypt(data, key)).toEqual(caesarEncrypt(data, -key));
        },
      ),
    );
  });

  it('returns a new array and leaves the input untouched', () => {
    const data = encode('TIME');
    const encrypted = caesarEncrypt(data, 7);
    expect(encrypted).not.toBe(data);
    expect(decode(data)).toBe('TIME');
    expect(caesarEncrypt(new Uint8Array(0), 7)).toEqual(new Uint8Array(0));
  });

  it('leaves bytes unchanged under key 0 and key 256 (the weak case)', () => {
    const data = encode('TEMP');
    expect(caesarEncrypt(data, 0)).toEqual(data);
    expect(caesarEncrypt(data, 256)).toEqual(data);
  });

  it('accepts Uint8Array subclasses and arrays from another realm', () => {
    class Bytes extends Uint8Array {}
    expect(caesarEncrypt(Bytes.of(1, 2), 1)).toEqual(Uint8Array.of(2, 3));
    // What a Uint8Array from an iframe looks like here: a typed array whose prototype chain
    // has another realm's Uint8Array.prototype, so `instanceof Uint8Array` is false.
    const foreignPrototype = Object.create(Object.getPrototypeOf(Uint8Array.prototype), {
      constructor: { value: { name: 'Uint8Array' } },
    });
    const foreign = Object.setPrototypeOf(Uint8Array.of(1, 2), foreignPrototype) as Uint8Array;
    expect(foreign instanceof Uint8Array).toBe(false);
    expect(Array.from(caesarEncrypt(foreign, 1))).toEqual([2, 3]);
  });
});

describe('caesarEncryptInPlace / caesarDecryptInPlace', () => {
  it('match the copying versions and return the same array', () => {
    fc.assert(
      fc.property(fc.uint8Array(), anyIntegerKey, (data, key) => {
        const expected = caesarEncrypt(data, key);
        const copy = data.slice();
        expect(caesarEncryptInPlace(copy, key)).toBe(copy);
        expect(copy).toEqual(expected);
        expect(caesarDecryptInPlace(copy, key)).toBe(copy);
        expect(copy).toEqual(data);
      }),
    );
  });

  it('touch only the view they are given', () => {
    const frame = Uint8Array.of(0, 0, 4, 1, 2, 3, 4, 9);
    caesarEncryptInPlace(frame.subarray(3, 7), 1);
    expect(frame).toEqual(Uint8Array.of(0, 0, 4, 2, 3, 4, 5, 9));
  });
});

describe('normalizeCaesarKey', () => {
  it('reduces any integer to 0..255', () => {
    expect(normalizeCaesarKey(4)).toBe(4);
    expect(normalizeCaesarKey(260)).toBe(4);
    expect(normalizeCaesarKey(-1)).toBe(255);
    expect(normalizeCaesarKey(-256)).toBe(0);
    expect(Object.is(normalizeCaesarKey(-0), 0)).toBe(true);
    fc.assert(
      fc.property(anyIntegerKey, (key) => {
        const shift = normalizeCaesarKey(key);
        expect(Number.isInteger(shift) && shift >= 0 && shift < 256).toBe(true);
      }),
    );
  });
});

describe('argument checks', () => {
  const functions = [caesarEncrypt, caesarDecrypt, caesarEncryptInPlace, caesarDecryptInPlace];

  it.each(functions)('%o: TypeError for a key that is not a number', (fn) => {
    for (const key of ['4', null, undefined, 4n, {}, [4]]) {
      expect(() => fn(Uint8Array.of(1), key as never)).toThrow(TypeError);
    }
  });

  it.each(functions)('%o: RangeError for a key that is no integer, never a silent NaN', (fn) => {
    for (const key of [1.5, -0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => fn(Uint8Array.of(1), key)).toThrow(RangeError);
    }
  });

  it.each(functions)('%o: TypeError for data that is not a Uint8Array', (fn) => {
    for (const data of [
      [1, 2],
      'AB',
      new ArrayBuffer(2),
      new Uint16Array(2),
      new Uint8ClampedArray(2),
      null,
    ]) {
      expect(() => fn(data as never, 1)).toThrow(TypeError);
    }
  });
});

describe('caesarShiftLetters', () => {
  it("gives the seed's illustration exactly: HELLOWORLD with key 4 is LIPPSASVPH", () => {
    expect(caesarShiftLetters('HELLOWORLD', 4)).toBe('LIPPSASVPH');
    expect(caesarShiftLetters('LIPPSASVPH', -4)).toBe('HELLOWORLD');
  });

  it('keeps case and leaves everything but letters alone', () => {
    expect(caesarShiftLetters('Hello, World! 42', 30)).toBe('Lipps, Asvph! 42');
  });

  it('round-trips any text with any integer key', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer(), (text, key) => {
        expect(caesarShiftLetters(caesarShiftLetters(text, key), -key)).toBe(text);
      }),
    );
  });

  it('rejects a key that is not an integer', () => {
    expect(() => caesarShiftLetters('A', 1.5)).toThrow(RangeError);
    expect(() => caesarShiftLetters(1 as unknown as string, 1)).toThrow(TypeError);
  });
});
