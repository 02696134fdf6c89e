import { describe, expect, it } from 'vitest';
import {
  assertByteCipher,
  assertBytes,
  assertFunction,
  assertInteger,
  assertString,
} from './assert.ts';
import { createCaesarCipher, NULL_CIPHER } from './byte-cipher.ts';

// Messages are pinned here, once, because they are the one message shape every package shares
// (`<name> must be <what>, got <value>`); elsewhere tests check the error class only.
describe('assertInteger', () => {
  it('returns an integer within the bounds', () => {
    expect(assertInteger(4, 'key')).toBe(4);
    expect(assertInteger(-(2 ** 60), 'key')).toBe(-(2 ** 60));
    expect(assertInteger(0, 'id', 0, 0xffff_ffff)).toBe(0);
    expect(assertInteger(0xff, 'code', 0, 0xff)).toBe(0xff);
  });

  it('throws TypeError for a non-number', () => {
    expect(() => assertInteger('4', 'key')).toThrow(
      new TypeError('key must be a number, got the string "4"'),
    );
    expect(() => assertInteger(4n, 'key')).toThrow(
      new TypeError('key must be a number, got bigint 4'),
    );
    expect(() => assertInteger(undefined, 'key')).toThrow(
      new TypeError('key must be a number, got undefined'),
    );
  });

  it('throws RangeError for a non-integer or a value out of bounds', () => {
    expect(() => assertInteger(1.5, 'key')).toThrow(
      new RangeError('key must be an integer, got 1.5'),
    );
    expect(() => assertInteger(Number.NaN, 'key')).toThrow(RangeError);
    expect(() => assertInteger(Number.POSITIVE_INFINITY, 'key')).toThrow(RangeError);
    expect(() => assertInteger(256, 'code', 0, 0xff)).toThrow(
      new RangeError('code must be an integer in 0..255, got 256'),
    );
    expect(() => assertInteger(-1, 'shared', 0)).toThrow(
      new RangeError('shared must be an integer >= 0, got -1'),
    );
    expect(() => assertInteger(9, 'n', Number.NEGATIVE_INFINITY, 8)).toThrow(
      new RangeError('n must be an integer <= 8, got 9'),
    );
  });
});

describe('assertBytes, assertString, assertFunction, assertByteCipher', () => {
  it('return the value when it has the right type', () => {
    const bytes = Uint8Array.of(1);
    expect(assertBytes(bytes, 'data')).toBe(bytes);
    expect(assertString('TIME', 'text')).toBe('TIME');
    const fn = () => true;
    expect(assertFunction(fn, 'isPlainText')).toBe(fn);
    const cipher = createCaesarCipher(4);
    expect(assertByteCipher(cipher, 'cipher')).toBe(cipher);
    expect(assertByteCipher(NULL_CIPHER, 'cipher')).toBe(NULL_CIPHER);
  });

  it('throw TypeError naming the argument and what it got', () => {
    expect(() => assertBytes([1], 'data')).toThrow(
      new TypeError('data must be a Uint8Array, got an array'),
    );
    expect(() => assertBytes(new Uint16Array(1), 'data')).toThrow(
      new TypeError('data must be a Uint8Array, got an instance of Uint16Array'),
    );
    expect(() => assertString(5, 'message')).toThrow(
      new TypeError('message must be a string, got number 5'),
    );
    expect(() => assertFunction(null, 'random')).toThrow(
      new TypeError('random must be a function, got null'),
    );
    expect(() => assertByteCipher({ encrypt() {} }, 'cipher')).toThrow(
      new TypeError('cipher must be a ByteCipher, got an instance of Object'),
    );
    expect(() => assertByteCipher(() => {}, 'cipher')).toThrow(
      new TypeError('cipher must be a ByteCipher, got a function'),
    );
    expect(() => assertByteCipher(null, 'cipher')).toThrow(TypeError);
  });
});
