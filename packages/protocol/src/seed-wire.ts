import { assertBytes, assertInteger, assertString } from './assert.ts';
import { BadSeedKeyError } from './errors.ts';
import { checkMagicPrefix } from './hello.ts';

/**
 * Helpers for the seed's wire (the original Python programs): a public key in decimal
 * ASCII with no terminator, then Caesar-encrypted 4-letter commands and UTF-8 answers,
 * with no framing at all. Encryption is the caller's.
 */

/** The commands the seed's server understands, in menu order. */
export const SEED_COMMANDS = ['TIME', 'DATE', 'TEMP'] as const;
/** One of the seed's commands. */
export type SeedCommand = (typeof SEED_COMMANDS)[number];

/** Default cap on the digits of a seed public key (the seed's keys have at most 3). */
export const SEED_KEY_MAX_DIGITS = 10;

/** Which protocol a connection speaks, judged from its first bytes. */
export type WireKind = 'seed' | 'framed' | 'unknown' | 'need-more';

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const isDigit = (b: number) => b >= DIGIT_0 && b <= DIGIT_9;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * Tells the seed wire (starts with an ASCII digit) from the framed protocol (starts with
 * `"RTT"`) on a connection's first bytes. `'framed'` needs only the bytes present to
 * match the magic; `'need-more'` means nothing arrived yet.
 * @example
 * detectWire(new TextEncoder().encode('183')); // 'seed'
 * detectWire(Uint8Array.of(0x52)); // 'framed'
 * detectWire(Uint8Array.of(0x16, 0x03)); // 'unknown' (a TLS ClientHello, say)
 */
export function detectWire(firstBytes: Uint8Array): WireKind {
  assertBytes('firstBytes', firstBytes);
  const first = firstBytes[0];
  if (first === undefined) return 'need-more';
  if (isDigit(first)) return 'seed';
  return checkMagicPrefix(firstBytes) > 0 ? 'framed' : 'unknown';
}

/**
 * Encodes a public key as the seed sends it: decimal ASCII, no terminator.
 * @example
 * encodeSeedPublicKey(183); // Uint8Array of "183" (0x31 0x38 0x33)
 */
export function encodeSeedPublicKey(n: number): Uint8Array {
  assertInteger('n', n, 0, Number.MAX_SAFE_INTEGER);
  return utf8Encoder.encode(String(n));
}

/**
 * Parses a whole seed public key: 1 to `maxDigits` ASCII digits and nothing else.
 * @throws {BadSeedKeyError} empty, a non-digit byte, or too many digits
 * @example
 * parseSeedPublicKey(new TextEncoder().encode('183')); // 183
 */
export function parseSeedPublicKey(bytes: Uint8Array, maxDigits = SEED_KEY_MAX_DIGITS): number {
  const reader = new SeedKeyReader({ maxDigits });
  reader.push(bytes);
  return reader.value();
}

/** Options for {@link SeedKeyReader}. */
export interface SeedKeyReaderOptions {
  /** More digits than this is an error; default 10. */
  readonly maxDigits?: number;
  /**
   * The largest acceptable key (e.g. 256 for p = 257). A digit that makes the key larger is
   * an error, and `mayContinue` turns false as soon as no further digit could fit.
   */
  readonly maxValue?: number;
}

/**
 * Gathers a seed public key that may arrive split over TCP segments. The seed client
 * sends nothing after its key until it has the server's, so only a quiet period (the
 * caller's timer) says the key is complete, unless `mayContinue` already says no more
 * digit can come.
 * @example
 * const reader = new SeedKeyReader({ maxValue: 256 });
 * reader.push(new TextEncoder().encode('1'));
 * reader.push(new TextEncoder().encode('83'));
 * reader.mayContinue; // false: 183 followed by any digit would exceed 256
 * reader.value(); // 183
 */
export class SeedKeyReader {
  readonly #maxDigits: number;
  readonly #maxValue: number;
  #digits = 0;
  #value = 0;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new SeedKeyReader({ maxDigits: 3 });
   */
  constructor(options: SeedKeyReaderOptions = {}) {
    // 15 digits always fit in a double exactly.
    this.#maxDigits = assertInteger(
      'options.maxDigits',
      options.maxDigits ?? SEED_KEY_MAX_DIGITS,
      1,
      15,
    );
    this.#maxValue = assertInteger(
      'options.maxValue',
      options.maxValue ?? Number.MAX_SAFE_INTEGER,
      0,
      Number.MAX_SAFE_INTEGER,
    );
  }

  /**
   * Adds received bytes. Every byte must be a digit.
   * @throws {BadSeedKeyError} a non-digit byte, too many digits, or a value over `maxValue`
   * @example
   * reader.push(chunk);
   */
  push(bytes: Uint8Array): void {
    assertBytes('bytes', bytes);
    for (const b of bytes) {
      if (!isDigit(b)) {
        throw new BadSeedKeyError(
          `seed public key byte 0x${b.toString(16).padStart(2, '0')} is not a digit`,
        );
      }
      if (this.#digits === this.#maxDigits) {
        throw new BadSeedKeyError(`seed public key is longer than ${this.#maxDigits} digits`);
      }
      this.#value = this.#value * 10 + (b - DIGIT_0);
      this.#digits += 1;
      if (this.#value > this.#maxValue) {
        throw new BadSeedKeyError(`seed public key exceeds ${this.#maxValue}`);
      }
    }
  }

  /**
   * How many digits have arrived.
   * @example
   * reader.length; // 3
   */
  get length(): number {
    return this.#digits;
  }

  /**
   * Whether another digit could still belong to the key. When false the key is complete
   * and the caller need not wait for a quiet period.
   * @example
   * if (!reader.mayContinue) answer(reader.value());
   */
  get mayContinue(): boolean {
    return this.#digits < this.#maxDigits && this.#value * 10 <= this.#maxValue;
  }

  /**
   * The key read so far.
   * @throws {BadSeedKeyError} when no digit has arrived
   * @example
   * reader.value(); // 183
   */
  value(): number {
    if (this.#digits === 0) throw new BadSeedKeyError('seed public key is empty');
    return this.#value;
  }
}

const SPACE = /\s+/g;

/**
 * Reads the commands in one decrypted segment from a seed client, as the original server
 * would (UTF-8, whitespace stripped, upper-cased), but answers every command when several
 * arrive joined (`"TIMEDATE"`, `"TIME DATE"`). Text that is not a run of known commands is
 * one unknown command, so every non-empty segment gets at least one answer.
 * @example
 * parseSeedCommands(new TextEncoder().encode('time')); // ['TIME']
 * parseSeedCommands(new TextEncoder().encode('TIMEDATE')); // ['TIME', 'DATE']
 * parseSeedCommands(new TextEncoder().encode(' hello ')); // ['HELLO']
 */
export function parseSeedCommands(decryptedBytes: Uint8Array): string[] {
  assertBytes('decryptedBytes', decryptedBytes);
  if (decryptedBytes.length === 0) return [];
  const text = utf8Decoder.decode(decryptedBytes).trim().toUpperCase();
  const joined = text.replace(SPACE, '');
  if (joined.length > 0 && joined.length % 4 === 0) {
    const commands: string[] = [];
    for (let i = 0; i < joined.length; i += 4) {
      const command = joined.slice(i, i + 4);
      if (!(SEED_COMMANDS as readonly string[]).includes(command)) return [text];
      commands.push(command);
    }
    return commands;
  }
  return [text];
}

/**
 * Encodes an answer (or a command) as UTF-8, ready for the caller's cipher.
 * @example
 * encodeSeedText('6°C'); // 36 C2 B0 43
 */
export function encodeSeedText(text: string): Uint8Array {
  return utf8Encoder.encode(assertString('text', text));
}

/**
 * Decodes a decrypted answer from a seed server (invalid UTF-8 becomes U+FFFD).
 * @example
 * decodeSeedText(Uint8Array.of(0x36, 0xc2, 0xb0, 0x43)); // '6°C'
 */
export function decodeSeedText(bytes: Uint8Array): string {
  return utf8Decoder.decode(assertBytes('bytes', bytes));
}
