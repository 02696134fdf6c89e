// The interface alone, in a module that imports nothing: both the ciphers (byte-cipher.ts)
// and the argument checks (assert.ts) need it, and neither may import the other.

/**
 * What the framing layer needs from a cipher: transform bytes it owns, in place. Length
 * preserving, so a frame's header can be written before its body is encrypted.
 */
export interface ByteCipher {
  /** A label for logs and negotiation, e.g. `'caesar'` or `'none'`. */
  readonly name: string;
  /** Encrypts `data` in place. */
  encrypt(data: Uint8Array): void;
  /** Decrypts `data` in place. */
  decrypt(data: Uint8Array): void;
}
