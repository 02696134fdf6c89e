import { assertBytes } from './assert.ts';
import { caesarDecryptInPlace, caesarEncryptInPlace, normalizeCaesarKey } from './caesar.ts';
import type { ByteCipher } from './cipher-interface.ts';

export type { ByteCipher } from './cipher-interface.ts';

/** The seed's byte-wise Caesar cipher with a fixed key. */
export interface CaesarCipher extends ByteCipher {
  readonly name: 'caesar';
  /** The shift applied to every byte, `0..255`. */
  readonly key: number;
}

/** The cipher that leaves bytes as they are. */
export interface NullCipher extends ByteCipher {
  readonly name: 'none';
  /** Always 0: the shift that changes nothing. */
  readonly key: 0;
}

/**
 * A Caesar cipher bound to `key` (any integer, reduced to `0..255`), which encrypts and
 * decrypts in place. Key 0 is accepted and changes nothing: refusing it is the handshake's
 * job (see `isWeakSharedSecret`), not the cipher's.
 *
 * @example
 * ```ts
 * const cipher = createCaesarCipher(260);
 * cipher.key; // 4
 * const bytes = new TextEncoder().encode('HELLOWORLD');
 * cipher.encrypt(bytes); // bytes now spell 'LIPPS[SVPH' (byte-wise: W + 4 is '[')
 * cipher.decrypt(bytes); // and 'HELLOWORLD' again
 * ```
 */
export function createCaesarCipher(key: number): CaesarCipher {
  const shift = normalizeCaesarKey(key);
  // The in-place functions own the one shifting loop (and the argument check); reducing an
  // already reduced key again on each call costs two `%`, nothing next to the loop.
  return Object.freeze({
    name: 'caesar',
    key: shift,
    encrypt: (data: Uint8Array) => {
      caesarEncryptInPlace(data, shift);
    },
    decrypt: (data: Uint8Array) => {
      caesarDecryptInPlace(data, shift);
    },
  });
}

/**
 * The cipher that does nothing, for sessions that negotiate no encryption (and for tests).
 * It still checks its argument, so swapping it for a real cipher never uncovers a bug.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('TIME');
 * NULL_CIPHER.encrypt(bytes); // bytes unchanged
 * ```
 */
export const NULL_CIPHER: NullCipher = Object.freeze({
  name: 'none',
  key: 0,
  encrypt: (data: Uint8Array) => {
    assertBytes(data, 'data');
  },
  decrypt: (data: Uint8Array) => {
    assertBytes(data, 'data');
  },
});
