import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../test/fixtures/hex.ts';
import { BadSeedKeyError } from './errors.ts';
import { encodeClientHello } from './hello.ts';
import {
  decodeSeedText,
  detectWire,
  encodeSeedPublicKey,
  encodeSeedText,
  parseSeedCommands,
  parseSeedPublicKey,
  SEED_COMMANDS,
  SeedKeyReader,
} from './seed-wire.ts';

const ascii = (text: string) => new TextEncoder().encode(text);

describe('detectWire', () => {
  it('tells the seed wire, the framed protocol and anything else apart', () => {
    expect(detectWire(new Uint8Array(0))).toBe('need-more');
    for (const d of '0123456789') expect(detectWire(ascii(`${d}xx`))).toBe('seed');
    expect(detectWire(Uint8Array.of(0x52))).toBe('framed');
    expect(detectWire(Uint8Array.of(0x52, 0x54))).toBe('framed');
    expect(detectWire(encodeClientHello({ cipher: 1, publicKey: 146 }))).toBe('framed');
    // Only the first byte decides: a bad magic after it is the framed decoder's to refuse.
    expect(detectWire(Uint8Array.of(0x52, 0x00))).toBe('framed');
    expect(detectWire(ascii('GET / HTTP/1.1'))).toBe('unknown');
    expect(detectWire(Uint8Array.of(0x16, 0x03, 0x01))).toBe('unknown');
    expect(() => detectWire('183' as never)).toThrow(TypeError);
  });
});

describe('seed public keys', () => {
  it('encode as bare decimal ASCII', () => {
    expect(toHex(encodeSeedPublicKey(183))).toBe('31 38 33');
    expect(toHex(encodeSeedPublicKey(1))).toBe('31');
    expect(() => encodeSeedPublicKey(-1)).toThrow(RangeError);
    expect(() => encodeSeedPublicKey(1.5)).toThrow(RangeError);
    expect(() => encodeSeedPublicKey('1' as never)).toThrow(TypeError);
  });

  it('parse back, round trip for every possible key', () => {
    for (let key = 1; key <= 256; key++)
      expect(parseSeedPublicKey(encodeSeedPublicKey(key))).toBe(key);
    expect(parseSeedPublicKey(ascii('0183'))).toBe(183);
  });

  it('refuse empty input, junk and absurd lengths with BadSeedKeyError', () => {
    for (const bad of ['', ' 183', '183\n', '18a', '-1', '+1', '1_0', '12345678901']) {
      const err = (() => {
        try {
          parseSeedPublicKey(ascii(bad));
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(bad)).toBeInstanceOf(BadSeedKeyError);
      expect((err as BadSeedKeyError).code).toBe('RTT_ERR_BAD_SEED_KEY');
    }
  });
});

describe('SeedKeyReader', () => {
  it('gathers digits split across segments', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 3 }), (key, cut) => {
        const bytes = encodeSeedPublicKey(key);
        const reader = new SeedKeyReader();
        reader.push(bytes.subarray(0, cut));
        reader.push(bytes.subarray(cut));
        expect(reader.value()).toBe(key);
        expect(reader.length).toBe(bytes.length);
      }),
    );
  });

  it('says when no further digit can belong to the key', () => {
    const reader = new SeedKeyReader({ maxValue: 256 });
    reader.push(ascii('2'));
    expect(reader.mayContinue).toBe(true); // 20..29 still fit
    reader.push(ascii('5'));
    expect(reader.mayContinue).toBe(true); // 250..256 still fit
    reader.push(ascii('6'));
    expect(reader.mayContinue).toBe(false);
    const short = new SeedKeyReader({ maxValue: 256 });
    short.push(ascii('26'));
    expect(short.mayContinue).toBe(false); // 260 would exceed 256
    expect(short.value()).toBe(26);
    const unbounded = new SeedKeyReader({ maxDigits: 3 });
    unbounded.push(ascii('999'));
    expect(unbounded.mayContinue).toBe(false);
  });

  it('throws BadSeedKeyError on a non-digit, too many digits, a value too large, or no digits', () => {
    expect(() => new SeedKeyReader().push(ascii('12 '))).toThrow(BadSeedKeyError);
    const long = new SeedKeyReader({ maxDigits: 3 });
    long.push(ascii('12'));
    long.push(ascii('3'));
    expect(() => long.push(ascii('4'))).toThrow(BadSeedKeyError);
    expect(() => new SeedKeyReader({ maxValue: 256 }).push(ascii('257'))).toThrow(BadSeedKeyError);
    expect(() => new SeedKeyReader().value()).toThrow(BadSeedKeyError);
    expect(() => new SeedKeyReader({ maxDigits: 0 })).toThrow(RangeError);
  });
});

describe('seed commands', () => {
  it('reads one command as the original server does: trimmed and upper-cased', () => {
    expect(parseSeedCommands(ascii('TIME'))).toEqual(['TIME']);
    expect(parseSeedCommands(ascii(' date\n'))).toEqual(['DATE']);
    expect(parseSeedCommands(ascii('Temp'))).toEqual(['TEMP']);
  });

  it('answers every command of a joined segment', () => {
    expect(parseSeedCommands(ascii('TIMEDATE'))).toEqual(['TIME', 'DATE']);
    expect(parseSeedCommands(ascii('TIME DATE'))).toEqual(['TIME', 'DATE']);
    expect(parseSeedCommands(ascii('timedatetemptime'))).toEqual(['TIME', 'DATE', 'TEMP', 'TIME']);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SEED_COMMANDS), { minLength: 1, maxLength: 10 }),
        (cmds) => {
          expect(parseSeedCommands(ascii(cmds.join('')))).toEqual(cmds);
        },
      ),
    );
  });

  it('keeps anything else as one unknown command, so every segment gets an answer', () => {
    expect(parseSeedCommands(ascii('HELLO'))).toEqual(['HELLO']);
    expect(parseSeedCommands(ascii('TIMEXYZW'))).toEqual(['TIMEXYZW']);
    expect(parseSeedCommands(ascii('time xyz'))).toEqual(['TIME XYZ']);
    expect(parseSeedCommands(ascii('   '))).toEqual(['']);
    expect(parseSeedCommands(Uint8Array.of(0xff, 0x54))).toEqual(['\ufffdT']);
    expect(parseSeedCommands(new Uint8Array(0))).toEqual([]);
  });
});

describe('seed text', () => {
  it('is UTF-8 both ways', () => {
    expect(toHex(encodeSeedText('6°C'))).toBe('36 c2 b0 43');
    expect(decodeSeedText(Uint8Array.of(0x36, 0xc2, 0xb0, 0x43))).toBe('6°C');
    expect(() => encodeSeedText(6 as never)).toThrow(TypeError);
  });
});
