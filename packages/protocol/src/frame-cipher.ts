/**
 * The encryption plugged into the framed protocol. The protocol does not know which cipher
 * it carries; it only calls these two methods on whole frame bodies.
 *
 * Both methods work in place on the bytes they are given. A cipher must be a byte stream:
 * encrypting a body in two consecutive pieces must equal encrypting it at once, because the
 * encoder encrypts a frame's header and payload separately while the decoder decrypts the
 * body in one call. A byte-wise Caesar shift (what `@rtt/cipher` provides) is one.
 * @example
 * const caesar = (key: number): FrameCipher => ({
 *   name: 'caesar',
 *   encrypt: (b) => { for (let i = 0; i < b.length; i++) b[i] = (b[i]! + key) & 0xff; },
 *   decrypt: (b) => { for (let i = 0; i < b.length; i++) b[i] = (b[i]! - key) & 0xff; },
 * });
 */
export interface FrameCipher {
  /** A short name for logs, e.g. `'caesar'`. */
  readonly name: string;
  /** Encrypts `bytes` in place. */
  encrypt(bytes: Uint8Array): void;
  /** Decrypts `bytes` in place. */
  decrypt(bytes: Uint8Array): void;
}
