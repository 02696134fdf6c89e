import { assertBytes, assertInteger, assertString } from '@rtt/cipher/assert';
import { MAGIC } from './constants.ts';
import { BadSeedKeyError } from './errors.ts';

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

/**
 * How long a seed session waits, once it holds bytes that finish nothing (key digits that
 * could take another digit, the first letters of a command), before it takes them as they
 * stand. The seed's programs send a key or a command in one piece and then wait for the other
 * side, so a pause this long means nothing more is coming. It is long enough for the rest of
 * a segment split by TCP on a loopback or LAN path, and too short for a person to notice.
 * @example
 * if (reader.mayContinue) clock.setTimeout(takeTheKey, SEED_QUIET_MS);
 */
export const SEED_QUIET_MS = 30;

/**
 * Default cap on the bytes a {@link SeedCommandReader} holds for a command still arriving. A
 * real command prefix is at most 3 letters plus some whitespace; past the cap the held text
 * is answered as it stands, so a peer that streams `"T"` and endless spaces costs neither
 * memory nor quadratic re-reading.
 * @example
 * new SeedCommandReader({ maxHeldBytes: SEED_MAX_HELD_BYTES }); // the default
 */
export const SEED_MAX_HELD_BYTES = 64;

/** Which protocol a connection speaks, judged from its first bytes. */
export type WireKind = 'seed' | 'framed' | 'unknown' | 'need-more';

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const isDigit = (b: number) => b >= DIGIT_0 && b <= DIGIT_9;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * Tells the seed wire from our framed protocol by a connection's first byte: an ASCII digit
 * is the seed wire, `R` (0x52, the first byte of the magic `"RTT"`) our hello. Only the first
 * byte counts, so the answer never depends on how TCP cut the bytes: a framed hello with a
 * bad magic is then refused by the framed decoder with ERROR BAD_HELLO, as docs/PROTOCOL.md
 * says. `'need-more'` means nothing arrived yet.
 * @example
 * detectWire(new TextEncoder().encode('183')); // 'seed'
 * detectWire(Uint8Array.of(0x52)); // 'framed'
 * detectWire(Uint8Array.of(0x16, 0x03)); // 'unknown' (a TLS ClientHello, say)
 */
export function detectWire(firstBytes: Uint8Array): WireKind {
  assertBytes(firstBytes, 'firstBytes');
  const first = firstBytes[0];
  if (first === undefined) return 'need-more';
  if (isDigit(first)) return 'seed';
  return first === MAGIC[0] ? 'framed' : 'unknown';
}

/**
 * Encodes a public key as the seed sends it: decimal ASCII, no terminator.
 * @example
 * encodeSeedPublicKey(183); // Uint8Array of "183" (0x31 0x38 0x33)
 */
export function encodeSeedPublicKey(n: number): Uint8Array {
  assertInteger(n, 'n', 0, Number.MAX_SAFE_INTEGER);
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
      options.maxDigits ?? SEED_KEY_MAX_DIGITS,
      'options.maxDigits',
      1,
      15,
    );
    this.#maxValue = assertInteger(
      options.maxValue ?? Number.MAX_SAFE_INTEGER,
      'options.maxValue',
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
    assertBytes(bytes, 'bytes');
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

// The seed's grammar, one place for it: a segment is a run of 4-letter commands, with any
// whitespace anywhere and in any case (the original server strips and upper-cases before it
// matches). A segment split by TCP may stop inside a command, so the scanner also says where
// an unfinished one starts; the first 1 to 4 letters of a command are what may still grow.
const COMMAND_SET: ReadonlySet<string> = new Set(SEED_COMMANDS);
const PREFIXES: ReadonlySet<string> = new Set(
  SEED_COMMANDS.flatMap((command) => [1, 2, 3, 4].map((length) => command.slice(0, length))),
);
const SPACE_CHAR = /\s/;

// Every whitespace character JavaScript knows is in the BMP, so one UTF-16 unit decides.
function isSpace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return SPACE_CHAR.test(String.fromCharCode(code));
}

// The upper-case letter a UTF-16 unit stands for, or '' when it can be part of no command.
// Beyond ASCII only U+0131 (dotless i) upper-cases to a command letter; the platform is
// asked rather than that listed, so the answer is always what `toUpperCase()` says.
function commandLetter(code: number): string {
  if (code >= 0x61 && code <= 0x7a) return String.fromCharCode(code - 0x20);
  if (code >= 0x41 && code <= 0x5a) return String.fromCharCode(code);
  if (code < 0x80) return '';
  const upper = String.fromCharCode(code).toUpperCase();
  return upper.length === 1 && upper >= 'A' && upper <= 'Z' ? upper : '';
}

/**
 * Whether `text` is exactly one of the seed's commands (`'TIME'`, `'DATE'`, `'TEMP'`).
 * @example
 * isSeedCommand('TIME'); // true
 * isSeedCommand('time'); // false: scanned commands are upper-cased already
 */
export function isSeedCommand(text: string): text is SeedCommand {
  return COMMAND_SET.has(text);
}

/**
 * What a seed client's text says so far; see {@link scanSeedCommands}.
 * @example
 * const { commands, rest } = scanSeedCommands(held + text);
 */
export interface SeedCommandScan {
  /**
   * What to answer now, in order: each known command of a run (`'TIME'`), or the whole text
   * (trimmed, upper-cased) as one unknown command when it is not a run of known commands.
   */
  readonly commands: string[];
  /**
   * The end of the text that does not say anything yet, to be read again with the bytes that
   * follow: an unfinished command from its first letter on (`'TI'`, `'DA '`), or the whole
   * text when it is only whitespace. `''` when nothing is left, and always with `final`.
   */
  readonly rest: string;
}

/**
 * Options for {@link scanSeedCommands}.
 * @example
 * scanSeedCommands(held, { final: true });
 */
export interface SeedCommandScanOptions {
  /**
   * No more text will come (the quiet period passed, or a single segment is all there is): an
   * unfinished command is unknown, and whitespace alone is the empty unknown command `''`.
   */
  readonly final?: boolean | undefined;
}

/**
 * The seed's command grammar, as the original server reads a segment (whitespace stripped,
 * upper-cased) but answering every command when several arrive joined (`"TIMEDATE"`,
 * `"time date"`). Text that is not a run of known commands is one unknown command, so every
 * segment that says something gets at least one answer. Unless `final`, a run that stops
 * inside a command, or text that is only whitespace, leaves a `rest` to wait for: the
 * commands before it are due at once.
 * @example
 * scanSeedCommands('time date'); // { commands: ['TIME', 'DATE'], rest: '' }
 * scanSeedCommands('TIMEDA'); // { commands: ['TIME'], rest: 'DA' }
 * scanSeedCommands('TIMEDA', { final: true }); // { commands: ['TIMEDA'], rest: '' }
 * scanSeedCommands('hello'); // { commands: ['HELLO'], rest: '' }
 */
export function scanSeedCommands(
  text: string,
  options: SeedCommandScanOptions = {},
): SeedCommandScan {
  assertString(text, 'text');
  const final = options.final === true;
  const commands: string[] = [];
  let group = '';
  let groupStart = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isSpace(code)) continue;
    const letter = commandLetter(code);
    if (letter === '') return unknownCommand(text);
    if (group.length === 0) groupStart = i;
    group += letter;
    // Stop at the first letter that no command can continue with: the rest cannot matter.
    if (!PREFIXES.has(group)) return unknownCommand(text);
    if (group.length === 4) {
      commands.push(group);
      group = '';
    }
  }
  if (group.length > 0) {
    return final ? unknownCommand(text) : { commands, rest: text.slice(groupStart) };
  }
  if (commands.length > 0 || text.length === 0) return { commands, rest: '' };
  // Only whitespace: it may be the start of a command split off by TCP, so it waits too.
  return final ? { commands: [''], rest: '' } : { commands, rest: text };
}

function unknownCommand(text: string): SeedCommandScan {
  return { commands: [text.trim().toUpperCase()], rest: '' };
}

/**
 * Reads the commands in one decrypted segment from a seed client, when that segment is all
 * there is: {@link scanSeedCommands} with `final`, on the segment's UTF-8 text.
 * @example
 * parseSeedCommands(new TextEncoder().encode('time')); // ['TIME']
 * parseSeedCommands(new TextEncoder().encode('TIMEDATE')); // ['TIME', 'DATE']
 * parseSeedCommands(new TextEncoder().encode(' hello ')); // ['HELLO']
 */
export function parseSeedCommands(decryptedBytes: Uint8Array): string[] {
  assertBytes(decryptedBytes, 'decryptedBytes');
  if (decryptedBytes.length === 0) return [];
  return scanSeedCommands(utf8Decoder.decode(decryptedBytes), { final: true }).commands;
}

// Keeps a byte order mark: a split must never change the text, and U+FEFF is whitespace to
// the grammar anyway.
const utf8Exact = new TextDecoder('utf-8', { ignoreBOM: true });

// How many bytes at the end of `bytes` start a UTF-8 character whose other bytes have not
// arrived (0..3). Holding them back and decoding them with what follows gives the same text
// as decoding the whole stream at once, so a character split by TCP (a no-break space
// between commands, say) is not turned into two U+FFFD.
function unfinishedUtf8(bytes: Uint8Array): number {
  const end = bytes.length;
  for (let back = 1; back <= 3 && back <= end; back++) {
    const b = bytes[end - back] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 ? 4 : 1;
    return b <= 0xf4 && length > back ? back : 0;
  }
  return 0;
}

// The UTF-8 size of decoded text (a surrogate pair is 4 bytes, 2 per unit).
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    n += code < 0x80 ? 1 : code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 2 : 3;
  }
  return n;
}

/**
 * Options for {@link SeedCommandReader}.
 * @example
 * new SeedCommandReader({ maxHeldBytes: 0 }); // never waits for the rest of a command
 */
export interface SeedCommandReaderOptions {
  /**
   * Most bytes held for a command still arriving; default {@link SEED_MAX_HELD_BYTES}. Past
   * it the held text is answered as it stands. 0 holds nothing: every segment is answered as
   * it stands, as if each one were final.
   */
  readonly maxHeldBytes?: number | undefined;
}

/**
 * Gathers a seed client's commands from decrypted segments that TCP may have split or joined:
 * each segment is decoded once and read with {@link scanSeedCommands}; what finishes nothing
 * yet (an unfinished command, whitespace, the first bytes of a UTF-8 character) is held, at
 * most `maxHeldBytes`, and read again with the next segment. The caller owns the quiet
 * period: when it passes, {@link SeedCommandReader.flush} answers what is held as it stands.
 * @example
 * const reader = new SeedCommandReader();
 * reader.push(new TextEncoder().encode('TIMEDA')); // ['TIME']; 'DA' is held
 * reader.push(new TextEncoder().encode('TE')); // ['DATE']
 * reader.push(new TextEncoder().encode('TE')); // []; held
 * reader.flush(); // ['TE']: an unknown command
 */
export class SeedCommandReader {
  readonly #maxHeldBytes: number;
  #held = '';
  #heldTextBytes = 0;
  #tail: Uint8Array | null = null;

  /**
   * @throws {TypeError | RangeError} for bad options
   * @example
   * new SeedCommandReader({ maxHeldBytes: 16 });
   */
  constructor(options: SeedCommandReaderOptions = {}) {
    this.#maxHeldBytes = assertInteger(
      options.maxHeldBytes ?? SEED_MAX_HELD_BYTES,
      'options.maxHeldBytes',
      0,
      Number.MAX_SAFE_INTEGER,
    );
  }

  /**
   * Bytes received and not yet answered (never more than `maxHeldBytes` between calls).
   * @example
   * if (reader.heldBytes > 0) clock.setTimeout(() => answer(reader.flush()), SEED_QUIET_MS);
   */
  get heldBytes(): number {
    return this.#heldTextBytes + (this.#tail?.length ?? 0);
  }

  /**
   * Reads one decrypted segment and returns the commands due now, in order (known ones as
   * `'TIME'`, anything else as one upper-cased unknown text). The bytes are only read.
   * @example
   * for (const command of reader.push(plain)) answer(command);
   */
  push(decryptedBytes: Uint8Array): string[] {
    assertBytes(decryptedBytes, 'decryptedBytes');
    if (decryptedBytes.length === 0) return [];
    let bytes = decryptedBytes;
    const tail = this.#tail;
    if (tail !== null) {
      // Only when a character was split: copying then is rare and costs one segment.
      bytes = new Uint8Array(tail.length + decryptedBytes.length);
      bytes.set(tail);
      bytes.set(decryptedBytes, tail.length);
    }
    const cut = bytes.length - unfinishedUtf8(bytes);
    this.#tail = cut < bytes.length ? bytes.slice(cut) : null;
    const text = this.#held + utf8Exact.decode(bytes.subarray(0, cut));
    const scan = scanSeedCommands(text);
    // A UTF-8 size is never below the UTF-16 length: a long rest is over the cap uncounted.
    const over = scan.rest.length > this.#maxHeldBytes;
    // A substring may share the characters of the whole text (V8's sliced strings), which
    // would keep a whole segment alive for a few held letters: a rest kept is copied.
    this.#held = over || scan.rest.length === text.length ? scan.rest : [...scan.rest].join('');
    this.#heldTextBytes = over ? scan.rest.length : utf8Length(scan.rest);
    if (over || this.heldBytes > this.#maxHeldBytes) {
      return scan.commands.length === 0 ? this.flush() : [...scan.commands, ...this.flush()];
    }
    return scan.commands;
  }

  /**
   * No more bytes are coming for what is held (the quiet period passed): returns it read as
   * final (an unfinished command or whitespace alone is one unknown command) and holds
   * nothing from then on.
   * @example
   * clock.setTimeout(() => { for (const command of reader.flush()) answer(command); }, 30);
   */
  flush(): string[] {
    const text = this.#held + (this.#tail === null ? '' : utf8Exact.decode(this.#tail));
    this.#held = '';
    this.#heldTextBytes = 0;
    this.#tail = null;
    return text.length === 0 ? [] : scanSeedCommands(text, { final: true }).commands;
  }
}

/**
 * Encodes an answer (or a command) as UTF-8, ready for the caller's cipher.
 * @example
 * encodeSeedText('6°C'); // 36 C2 B0 43
 */
export function encodeSeedText(text: string): Uint8Array {
  return utf8Encoder.encode(assertString(text, 'text'));
}

/**
 * Decodes a decrypted answer from a seed server (invalid UTF-8 becomes U+FFFD).
 * @example
 * decodeSeedText(Uint8Array.of(0x36, 0xc2, 0xb0, 0x43)); // '6°C'
 */
export function decodeSeedText(bytes: Uint8Array): string {
  return utf8Decoder.decode(assertBytes(bytes, 'bytes'));
}
