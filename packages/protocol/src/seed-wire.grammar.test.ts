import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isSeedCommand,
  parseSeedCommands,
  SEED_COMMANDS,
  SEED_MAX_HELD_BYTES,
  SeedCommandReader,
  scanSeedCommands,
} from './seed-wire.ts';

// The seed's command grammar: one scanner (`scanSeedCommands`) for what the server's session
// once did with two (`endsMidCommand` in the app, `parseSeedCommands` here), and the reader
// that feeds it split segments.

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The two grammars as they were before they were unified: the oracle for the new one. */
const before = {
  parse(text: string): string[] {
    const upper = text.trim().toUpperCase();
    const joined = upper.replace(/\s+/g, '');
    if (joined.length > 0 && joined.length % 4 === 0) {
      const commands: string[] = [];
      for (let i = 0; i < joined.length; i += 4) {
        const command = joined.slice(i, i + 4);
        if (!(SEED_COMMANDS as readonly string[]).includes(command)) return [upper];
        commands.push(command);
      }
      return commands;
    }
    return [upper];
  },
  endsMidCommand(text: string): boolean {
    const prefixes = new Set(SEED_COMMANDS.flatMap((c) => [1, 2, 3].map((n) => c.slice(0, n))));
    const compact = text.replace(/\s+/g, '').toUpperCase();
    const whole = compact.length - (compact.length % 4);
    if (whole === compact.length) return false;
    for (let i = 0; i < whole; i += 4) {
      if (!(SEED_COMMANDS as readonly string[]).includes(compact.slice(i, i + 4))) return false;
    }
    return prefixes.has(compact.slice(whole));
  },
};

const SPACES = [' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\u3000', '\ufeff'] as const;
const space = fc.constantFrom(...SPACES);
const spaces = fc.string({ unit: space, maxLength: 3 });
/** A command in any case, e.g. `'tImE'`. */
const anyCase = fc
  .tuple(fc.constantFrom(...SEED_COMMANDS), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
  .map(([command, lower]) =>
    [...command].map((ch, i) => (lower[i] ? ch.toLowerCase() : ch)).join(''),
  );
/** Text made mostly of what the grammar cares about: command letters, whitespace, others. */
const grammarText = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...'TIMEDAPtimedap') },
    { weight: 2, arbitrary: space },
    { weight: 1, arbitrary: fc.constantFrom('X', 'ı', 'ß', '\ufffd', '😀') },
  ),
  maxLength: 14,
});

/** Cuts `bytes` at the given offsets into fresh (copied) chunks. */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts)].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, p));
    start = p;
  }
  return chunks;
}

function readAll(chunks: readonly Uint8Array[], options = {}) {
  const reader = new SeedCommandReader(options);
  const commands = chunks.flatMap((chunk) => reader.push(chunk));
  return { reader, commands };
}

describe('scanSeedCommands: where a segment stops inside a command', () => {
  // The cases of the server app's old `endsMidCommand`, now answered by the one grammar.
  it.each([
    ['T', true, 'T'],
    ['ti', true, 'ti'],
    ['TEM', true, 'TEM'],
    ['TIMEDA', true, 'DA'],
    [' time d', true, 'd'],
    ['TIME', false, ''],
    ['TIMEDATE', false, ''],
    ['', false, ''],
    ['XY', false, ''],
    ['WHATTI', false, ''],
    ['TIMEX', false, ''],
  ])('%j: stops inside a command %s, rest %j', (text, mid, rest) => {
    const scan = scanSeedCommands(text);
    expect(scan.rest !== '').toBe(mid);
    expect(scan.rest).toBe(rest);
    expect(before.endsMidCommand(text)).toBe(mid);
  });

  it('answers the commands before an unfinished one at once', () => {
    expect(scanSeedCommands('TIMEDA')).toEqual({ commands: ['TIME'], rest: 'DA' });
    expect(scanSeedCommands('time\nda ')).toEqual({ commands: ['TIME'], rest: 'da ' });
    expect(scanSeedCommands('TIMEDATE')).toEqual({ commands: ['TIME', 'DATE'], rest: '' });
  });

  it('holds text that is only whitespace (a command split off may follow), unless final', () => {
    expect(scanSeedCommands(' \n')).toEqual({ commands: [], rest: ' \n' });
    expect(scanSeedCommands(' \n', { final: true })).toEqual({ commands: [''], rest: '' });
    // Whitespace after a command is no command of its own.
    expect(scanSeedCommands('TIME \n')).toEqual({ commands: ['TIME'], rest: '' });
  });

  it('final: an unfinished command makes the whole text one unknown command', () => {
    expect(scanSeedCommands('TIMEDA', { final: true })).toEqual({
      commands: ['TIMEDA'],
      rest: '',
    });
    expect(scanSeedCommands(' ti ', { final: true })).toEqual({ commands: ['TI'], rest: '' });
  });

  it('reads case and whitespace as the original server does, dotless i included', () => {
    expect(scanSeedCommands('\u00a0tıme\u3000').commands).toEqual(['TIME']);
    expect(scanSeedCommands('TI\u2028ME').commands).toEqual(['TIME']);
    expect(scanSeedCommands('Tſ').commands).toEqual(['TS']);
  });

  it('refuses a non-string with TypeError', () => {
    expect(() => scanSeedCommands(Uint8Array.of(0x54) as never)).toThrow(TypeError);
  });

  it('final, it is the parser the session used before (oracle), for any text', () => {
    fc.assert(
      fc.property(grammarText, (text) => {
        fc.pre(text.length > 0);
        expect(scanSeedCommands(text, { final: true })).toEqual({
          commands: before.parse(text),
          rest: '',
        });
      }),
      { numRuns: 2_000 },
    );
  });

  it('not final, it waits exactly where the old endsMidCommand did, or on whitespace alone', () => {
    fc.assert(
      fc.property(grammarText, (text) => {
        const scan = scanSeedCommands(text);
        const onlySpace = text.length > 0 && text.trim() === '';
        expect(scan.rest !== '').toBe(before.endsMidCommand(text) || onlySpace);
        if (scan.rest === '') {
          expect(scan.commands).toEqual(text === '' ? [] : before.parse(text));
        } else {
          // The commands due now and the held rest are the whole text, nothing lost.
          expect(scan.commands.every(isSeedCommand)).toBe(true);
          expect(text.endsWith(scan.rest)).toBe(true);
          const compact = (s: string) => s.replace(/\s+/g, '').toUpperCase();
          expect(scan.commands.join('') + compact(scan.rest)).toBe(compact(text));
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parseSeedCommands and isSeedCommand', () => {
  it('parseSeedCommands is the final scan of the UTF-8 text', () => {
    expect(parseSeedCommands(utf8('TIMEDA'))).toEqual(['TIMEDA']);
    expect(parseSeedCommands(utf8(' \t'))).toEqual(['']);
    expect(parseSeedCommands(new Uint8Array(0))).toEqual([]);
  });

  it('isSeedCommand knows the three commands only, upper-case', () => {
    for (const command of SEED_COMMANDS) expect(isSeedCommand(command)).toBe(true);
    for (const text of ['time', 'PING', '', 'TIMEDATE']) expect(isSeedCommand(text)).toBe(false);
  });
});

describe('SeedCommandReader: split and joined segments', () => {
  it('gives the same commands for commands in any case and whitespace, split anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(spaces, anyCase), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, rawCuts) => {
          const bytes = utf8(items.map(([s, c]) => s + c).join(''));
          const cuts = rawCuts.map((n) => n % (bytes.length + 1));
          const { reader, commands } = readAll(split(bytes, cuts));
          expect(commands).toEqual(items.map(([, c]) => c.toUpperCase()));
          expect(reader.heldBytes).toBe(0);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('a split at every byte, a multi-byte space included, changes nothing', () => {
    const bytes = utf8('time\u00a0DATE\u3000TEMPtime');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(readAll(split(bytes, [cut])).commands).toEqual(['TIME', 'DATE', 'TEMP', 'TIME']);
    }
    const bytewise = readAll(split(bytes, [...bytes.keys()]));
    expect(bytewise.commands).toEqual(['TIME', 'DATE', 'TEMP', 'TIME']);
  });

  it('holds an unfinished command until the rest comes, or until flush()', () => {
    const reader = new SeedCommandReader();
    expect(reader.push(utf8('TIMEDA'))).toEqual(['TIME']);
    expect(reader.heldBytes).toBe(2);
    expect(reader.push(utf8('TE'))).toEqual(['DATE']);
    expect(reader.heldBytes).toBe(0);
    expect(reader.push(utf8('te'))).toEqual([]);
    expect(reader.flush()).toEqual(['TE']);
    expect(reader.heldBytes).toBe(0);
    expect(reader.flush()).toEqual([]);
  });

  it('answers text that is no command at once, as one unknown command', () => {
    const reader = new SeedCommandReader();
    expect(reader.push(utf8('hello'))).toEqual(['HELLO']);
    expect(reader.push(utf8('TIMEXYZW'))).toEqual(['TIMEXYZW']);
    expect(reader.push(Uint8Array.of(0xff, 0x54))).toEqual(['\ufffdT']);
    expect(reader.heldBytes).toBe(0);
  });

  it('holds the first bytes of a split character, and flushes them as U+FFFD', () => {
    const reader = new SeedCommandReader();
    expect(reader.push(Uint8Array.of(0x54, 0x49, 0x4d, 0x45, 0xc2))).toEqual(['TIME']);
    expect(reader.heldBytes).toBe(1);
    expect(reader.push(Uint8Array.of(0xa0, 0x44, 0x41, 0x54, 0x45))).toEqual(['DATE']);
    expect(reader.push(Uint8Array.of(0xe2, 0x82))).toEqual([]);
    expect(reader.heldBytes).toBe(2);
    expect(reader.flush()).toEqual(['\ufffd']);
  });

  it('validates its argument and options', () => {
    expect(() => new SeedCommandReader().push('TIME' as never)).toThrow(TypeError);
    expect(() => new SeedCommandReader({ maxHeldBytes: -1 })).toThrow(RangeError);
    expect(() => new SeedCommandReader({ maxHeldBytes: 1.5 })).toThrow(RangeError);
    expect(() => new SeedCommandReader({ maxHeldBytes: '8' as never })).toThrow(TypeError);
  });
});

describe('SeedCommandReader: bounded holding', () => {
  it('"T" and endless spaces: never holds more than the cap, and answers as it goes', () => {
    const reader = new SeedCommandReader();
    const answers: string[] = [];
    answers.push(...reader.push(utf8('T')));
    const space1 = utf8(' ');
    for (let i = 0; i < 10_000; i++) {
      answers.push(...reader.push(space1));
      expect(reader.heldBytes).toBeLessThanOrEqual(SEED_MAX_HELD_BYTES);
    }
    // The "T" and its spaces first, then one empty unknown command per cap's worth of spaces.
    expect(answers[0]).toBe('T');
    expect(answers.slice(1).every((a) => a === '')).toBe(true);
    expect(answers.length).toBeGreaterThan(10_000 / (SEED_MAX_HELD_BYTES + 1) - 1);
  });

  it.each([
    [1, 'one byte'],
    [65_536, '64 KiB'],
  ])(
    '1 MB of spaces after "T" in pushes of %i (%s): bounded held bytes, answers as it goes',
    (size) => {
      const reader = new SeedCommandReader();
      const total = 1024 * 1024;
      const chunk = new Uint8Array(size).fill(0x20);
      let answers = reader.push(utf8('T')).length;
      let maxHeld = 0;
      for (let sent = 0; sent < total; sent += size) {
        answers += reader.push(chunk).length;
        maxHeld = Math.max(maxHeld, reader.heldBytes);
      }
      expect(maxHeld).toBeLessThanOrEqual(SEED_MAX_HELD_BYTES);
      // One answer per cap's worth of spaces when they trickle, one per push when they flood:
      // never more answers than pushes, never fewer than the held text forces out.
      const pushes = total / size;
      expect(answers).toBeLessThanOrEqual(pushes + 1);
      expect(answers).toBeGreaterThanOrEqual(Math.floor(total / (SEED_MAX_HELD_BYTES + 1)) / size);
    },
  );

  it('reads each byte a bounded number of times: work grows linearly, not quadratically', () => {
    // Work is counted as characters looked at (every scan goes through charCodeAt), not time.
    const work = (total: number, size: number) => {
      const reader = new SeedCommandReader();
      const chunk = new Uint8Array(size).fill(0x20);
      const original = String.prototype.charCodeAt;
      let reads = 0;
      String.prototype.charCodeAt = function (this: string, index: number) {
        reads += 1;
        return original.call(this, index);
      };
      try {
        reader.push(utf8('T'));
        for (let sent = 0; sent < total; sent += size) reader.push(chunk);
      } finally {
        String.prototype.charCodeAt = original;
      }
      return reads;
    };
    for (const size of [1, 7, 4_096]) {
      const small = work(64 * 1024, size);
      const large = work(128 * 1024, size);
      // Twice the bytes, about twice the work (a quadratic reader would do four times).
      expect(large / small).toBeLessThan(2.1);
      // And a small constant per byte: the held text (at most the cap) is read again with
      // each push, so one-byte pushes cost about the cap per byte, big ones about 2.
      expect(large / (128 * 1024)).toBeLessThanOrEqual(
        size === 1 ? 3 * (SEED_MAX_HELD_BYTES + 1) : 3 + (3 * (SEED_MAX_HELD_BYTES + 1)) / size,
      );
    }
  });

  it('a single huge segment past the cap is answered as it stands, at once', () => {
    const reader = new SeedCommandReader({ maxHeldBytes: 16 });
    expect(reader.push(utf8(`TIMEDATEti${' '.repeat(1_000_000)}`))).toEqual(['TIME', 'DATE', 'TI']);
    expect(reader.heldBytes).toBe(0);
  });

  it('counts held bytes in UTF-8, the first bytes of a split character included', () => {
    const reader = new SeedCommandReader({ maxHeldBytes: 4 });
    expect(reader.push(utf8('T\u3000'))).toEqual([]); // 1 + 3 bytes: at the cap, held
    expect(reader.heldBytes).toBe(4);
    // 5 bytes: over it, so all of it is one unknown command, the lone 0xc2 as U+FFFD.
    expect(reader.push(Uint8Array.of(0xc2))).toEqual(['T\u3000\ufffd']);
    expect(reader.heldBytes).toBe(0);
  });

  it('maxHeldBytes 0 holds nothing: every segment is answered as it stands', () => {
    const reader = new SeedCommandReader({ maxHeldBytes: 0 });
    expect(reader.push(utf8('TI'))).toEqual(['TI']);
    expect(reader.push(utf8('TIMEDA'))).toEqual(['TIME', 'DA']);
    expect(reader.push(utf8(' '))).toEqual(['']);
    expect(reader.heldBytes).toBe(0);
  });

  it('random bytes in random pieces never throw and never pass the cap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 16 }),
        (chunks, maxHeldBytes) => {
          const reader = new SeedCommandReader({ maxHeldBytes });
          for (const chunk of chunks) {
            for (const command of reader.push(chunk)) expect(typeof command).toBe('string');
            expect(reader.heldBytes).toBeLessThanOrEqual(maxHeldBytes);
          }
          reader.flush();
          expect(reader.heldBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
