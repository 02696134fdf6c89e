import { assertBytes, assertInteger, assertString } from './assert.ts';

/**
 * Reduces any integer key to the shift actually applied, `0..255`. Negative keys and keys of
 * 256 or more are welcome: `-1` is `255`, `260` is `4`.
 *
 * @example
 * ```ts
 * normalizeCaesarKey(260); // 4
 * normalizeCaesarKey(-1); // 255
 * normalizeCaesarKey(1.5); // throws RangeError
 * ```
 */
export function normalizeCaesarKey(key: number): number {
  assertInteger(key, 'key');
  // `%` keeps the sign of the dividend; adding 256 first makes negatives land in 0..255.
  // Both steps are exact for every integer double, even far beyond 2 ** 53.
  return ((key % 256) + 256) % 256;
}

// The one byte-shifting loop of the package: the copying and in-place functions here and the
// `ByteCipher` of `createCaesarCipher` all come through it.
function shift(source: Uint8Array, target: Uint8Array, amount: number): void {
  for (let i = 0; i < source.length; i++) {
    target[i] = ((source[i] as number) + amount) & 0xff;
  }
}

/**
 * Encrypts a copy of `data`: every byte plus `key`, modulo 256. `data` is left untouched.
 * The seed's illustration `HELLOWORLD` -> `LIPPSASVPH` shifts within A..Z; byte-wise, as the
 * seed then asks, `W` + 4 is `[`, so the result is `LIPPS[SVPH`.
 *
 * @example
 * ```ts
 * import { caesarEncrypt } from '@rtt/cipher';
 *
 * const cipherText = caesarEncrypt(new TextEncoder().encode('HELLOWORLD'), 4);
 * new TextDecoder().decode(cipherText); // 'LIPPS[SVPH'
 * ```
 */
export function caesarEncrypt(data: Uint8Array, key: number): Uint8Array {
  assertBytes(data, 'data');
  const result = new Uint8Array(data.length);
  shift(data, result, normalizeCaesarKey(key));
  return result;
}

/**
 * Decrypts a copy of `data`: encryption with `-key`.
 *
 * @example
 * ```ts
 * const plainText = caesarDecrypt(new TextEncoder().encode('LIPPS[SVPH'), 4);
 * new TextDecoder().decode(plainText); // 'HELLOWORLD'
 * ```
 */
export function caesarDecrypt(data: Uint8Array, key: number): Uint8Array {
  assertBytes(data, 'data');
  const result = new Uint8Array(data.length);
  shift(data, result, 256 - normalizeCaesarKey(key));
  return result;
}

/**
 * Encrypts `data` in place and returns the same array: no allocation, for hot paths that own
 * the bytes (a frame's body before it is written).
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('TIME');
 * caesarEncryptInPlace(bytes, 4) === bytes; // true; bytes now spell 'XMQI'
 * ```
 */
export function caesarEncryptInPlace(data: Uint8Array, key: number): Uint8Array {
  assertBytes(data, 'data');
  shift(data, data, normalizeCaesarKey(key));
  return data;
}

/**
 * Decrypts `data` in place and returns the same array.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('XMQI');
 * new TextDecoder().decode(caesarDecryptInPlace(bytes, 4)); // 'TIME'
 * ```
 */
export function caesarDecryptInPlace(data: Uint8Array, key: number): Uint8Array {
  assertBytes(data, 'data');
  shift(data, data, 256 - normalizeCaesarKey(key));
  return data;
}

const UPPER_A = 65;
const LOWER_A = 97;

/**
 * The classic Caesar cipher of the seed's illustration: letters shift within A..Z (and a..z),
 * everything else stays. `HELLOWORLD` with key 4 is `LIPPSASVPH`, exactly as the seed shows.
 * The wire uses the byte-wise {@link caesarEncrypt}; this one is for showing the idea.
 *
 * @example
 * ```ts
 * caesarShiftLetters('HELLOWORLD', 4); // 'LIPPSASVPH'
 * caesarShiftLetters('LIPPSASVPH', -4); // 'HELLOWORLD'
 * ```
 */
export function caesarShiftLetters(text: string, key: number): string {
  assertString(text, 'text');
  assertInteger(key, 'key');
  const amount = ((key % 26) + 26) % 26;
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    const base =
      code >= UPPER_A && code < UPPER_A + 26
        ? UPPER_A
        : code >= LOWER_A && code < LOWER_A + 26
          ? LOWER_A
          : -1;
    out += base < 0 ? char : String.fromCharCode(base + ((code - base + amount) % 26));
  }
  return out;
}
