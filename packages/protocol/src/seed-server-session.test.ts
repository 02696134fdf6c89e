import type { RandomSource } from '@rtt/cipher';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test/fixtures/fake-clock.ts';
import { concat, fromHex, toHex } from '../test/fixtures/hex.ts';
import { memoryTransport } from '../test/fixtures/memory-transport.ts';
import type { ProtocolError } from './errors.ts';
import { SeedServerSession, type SeedServerSessionOptions } from './seed-server-session.ts';
import { SEED_MAX_HELD_BYTES, SEED_QUIET_MS } from './seed-wire.ts';
import type { AnsweredCommand, ServerSessionEvent } from './session.ts';

// Keys of the golden session (as in docs/PROTOCOL.md's second round): the client's private
// key 7 gives public key 146, the server's 9 gives 190, and both get 11^63 mod 257 = 187.
const SERVER_PRIVATE = 9;
const KEY = 187;

/** A random source that makes `createKeyPair` pick `privateKey` (it draws 1 + v mod 255). */
const pickPrivate =
  (privateKey: number): RandomSource =>
  (array) => {
    array.fill(privateKey - 1);
  };

const ANSWERS: Record<AnsweredCommand, string> = {
  TIME: '00:02:19.198109',
  DATE: '2024-10-23',
  TEMP: '6°C',
};

const utf8 = (text: string) => new TextEncoder().encode(text);
const decoder = new TextDecoder();
/** The Caesar shift, written out here rather than taken from @rtt/cipher: a cross-check. */
const shift = (bytes: Uint8Array, key: number) => bytes.map((b) => (b + key) & 0xff);
const encrypt = (text: string, key = KEY) => shift(utf8(text), key);
const decrypt = (bytes: Uint8Array, key = KEY) => decoder.decode(shift(bytes, 256 - key));

function serve(options: Partial<SeedServerSessionOptions> = {}) {
  const transport = memoryTransport();
  const clock = new FakeClock();
  const events: ServerSessionEvent[] = [];
  const session = new SeedServerSession(transport, {
    answer: (command) => ANSWERS[command],
    onEvent: (event) => events.push(event),
    clock,
    random: pickPrivate(SERVER_PRIVATE),
    ...options,
  });
  /** What the server wrote after its key, decrypted. */
  const answers = (key = KEY) => transport.parts.slice(1).map((m) => decrypt(m, key));
  return { transport, clock, events, session, answers };
}

/** Cuts `bytes` at the given offsets into fresh (copied) chunks, with their end offsets. */
function split(bytes: Uint8Array, cuts: readonly number[]): Array<[Uint8Array, number]> {
  const points = [...new Set(cuts)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const chunks: Array<[Uint8Array, number]> = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push([bytes.slice(start, p), p]);
    start = p;
  }
  return chunks;
}

function refusal(events: readonly ServerSessionEvent[]): ProtocolError {
  expect(events).toHaveLength(1);
  const event = events[0] as ServerSessionEvent;
  if (event.type !== 'refused') throw new Error(`expected a refusal, got ${event.type}`);
  return event.error;
}

describe('SeedServerSession: a golden session', () => {
  it('writes exactly these bytes: our key in decimal, then one encrypted answer per command', () => {
    const { session, transport, events } = serve();
    session.push(fromHex('31 34 36')); // "146"
    expect(session.ready).toBe(true);
    expect(session.key).toBe(KEY);
    session.push(fromHex('0f 04 08 00')); // TIME
    session.push(fromHex('ff fc 0f 00')); // DATE
    session.push(fromHex('0f 00 08 0b')); // TEMP
    expect(transport.messages.map(toHex)).toEqual([
      '31 39 30', // "190"
      'eb eb f5 eb ed f5 ec f4 e9 ec f4 f3 ec eb f4', // 00:02:19.198109
      'ed eb ed ef e8 ec eb e8 ed ee', // 2024-10-23
      'f1 7d 6b fe', // 6°C
    ]);
    expect(events).toEqual([
      { type: 'ready', wire: 'seed', key: KEY, rounds: 1 },
      { type: 'request', wire: 'seed', command: 'TIME', ok: true },
      { type: 'request', wire: 'seed', command: 'DATE', ok: true },
      { type: 'request', wire: 'seed', command: 'TEMP', ok: true },
    ]);
    expect(transport.ended).toBe(false);
  });

  it('answers text that is no command with an error, quoting at most 32 characters', () => {
    const { session, transport, events, answers } = serve();
    session.push(utf8('146'));
    session.push(fromHex('03 00 07 07 0a')); // "HELLO"
    expect(toHex(transport.messages[1] as Uint8Array)).toBe(
      // ERROR unknown command "HELLO"
      '00 0d 0d 0a 0d db 30 29 26 29 2a 32 29 db 1e 2a 28 28 1c 29 1f db dd 03 00 07 07 0a dd',
    );
    session.push(encrypt(`what${'x'.repeat(40)}`));
    expect(answers()).toEqual([
      'ERROR unknown command "HELLO"',
      `ERROR unknown command "WHAT${'X'.repeat(28)}"`,
    ]);
    expect(events.slice(1)).toEqual([
      { type: 'request', wire: 'seed', command: 'unknown', ok: false },
      { type: 'request', wire: 'seed', command: 'unknown', ok: false },
    ]);
  });

  it('key 0 (shared secret 256): says so, and serves in clear', () => {
    // Client private key 32 gives public key 256; 256^9 = 256 (mod 257): Caesar key 0.
    const { session, transport, events } = serve();
    session.push(utf8('256'));
    session.push(utf8('TIME'));
    expect(events).toEqual([
      { type: 'clear-text' },
      { type: 'ready', wire: 'seed', key: 0, rounds: 1 },
      { type: 'request', wire: 'seed', command: 'TIME', ok: true },
    ]);
    expect(session.key).toBe(0);
    expect(transport.messages.map((m) => decoder.decode(m))).toEqual(['190', ANSWERS.TIME]);
  });

  it('answers each of several joined commands, all in one write, one part each', () => {
    const { session, transport, answers } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TIMEdate TEMP'));
    expect(answers()).toEqual([ANSWERS.TIME, ANSWERS.DATE, ANSWERS.TEMP]);
    expect(transport.messages).toHaveLength(2); // our key, then one write for the segment
  });

  it('writes once per pushed segment, however many commands it holds', () => {
    const { session, transport, answers, events } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TIME'.repeat(16_384))); // a whole 64 KiB socket read of commands
    expect(transport.messages).toHaveLength(2);
    expect(answers()).toHaveLength(16_384);
    expect(events.filter((e) => e.type === 'request')).toHaveLength(16_384);
  });

  it('takes the pushed chunk over: it is decrypted in place', () => {
    const { session } = serve();
    session.push(utf8('146'));
    const chunk = encrypt('TIME');
    session.push(chunk);
    expect(decoder.decode(chunk)).toBe('TIME');
  });
});

describe('SeedServerSession: the client stream split anywhere', () => {
  // A client whose key finishes by itself ("146": 1460 > 256), and one whose key needs the
  // quiet period ("11", private key 1: 110 would still fit); commands joined, split, cased.
  const streams = [
    { name: 'key 146', key: '146', shared: KEY },
    { name: 'key 11 (needs the quiet period)', key: '11', shared: 190 },
  ].map(({ name, key, shared }) => {
    const commands = concat(
      encrypt('TIME', shared),
      encrypt('date', shared),
      encrypt('TEMPTIME', shared),
      encrypt(' DATE', shared),
    );
    return { name, keyLength: key.length, shared, bytes: concat(utf8(key), commands) };
  });
  const expected = [ANSWERS.TIME, ANSWERS.DATE, ANSWERS.TEMP, ANSWERS.TIME, ANSWERS.DATE];

  /**
   * Pushes the stream in pieces. The seed client sends nothing after its key until it has
   * ours, so the key always ends a piece and the quiet period passes after it.
   */
  function run(stream: (typeof streams)[number], cuts: readonly number[]) {
    const s = serve();
    for (const [chunk, end] of split(stream.bytes, [...cuts, stream.keyLength])) {
      s.session.push(chunk);
      if (end === stream.keyLength) s.clock.advance(SEED_QUIET_MS);
    }
    return s;
  }

  it.each(streams)('$name: a split at every byte gives the same answers', (stream) => {
    const whole = run(stream, []);
    expect(whole.answers(stream.shared)).toEqual(expected);
    for (let cut = 0; cut <= stream.bytes.length; cut++) {
      const s = run(stream, [cut]);
      expect(s.transport.parts).toEqual(whole.transport.parts);
      expect(s.events).toEqual(whole.events);
      expect(s.clock.pending).toBe(0);
    }
    const bytewise = run(stream, [...stream.bytes.keys()]);
    expect(bytewise.transport.parts).toEqual(whole.transport.parts);
    expect(bytewise.session.heldBytes).toBe(0);
  });

  it.each(streams)('$name: random splits give the same answers', (stream) => {
    const whole = run(stream, []);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: stream.bytes.length }), { maxLength: 30 }),
        (cuts) => {
          const s = run(stream, cuts);
          expect(s.transport.parts).toEqual(whole.transport.parts);
          expect(s.events).toEqual(whole.events);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('SeedServerSession: the key exchange', () => {
  it('takes a key at once when no further digit could fit, else after the quiet period', () => {
    const { session, transport, clock } = serve();
    session.push(utf8('1'));
    session.push(utf8('1')); // 11: 110 would still fit
    clock.advance(SEED_QUIET_MS - 1);
    expect(transport.messages).toHaveLength(0);
    session.push(new Uint8Array(0)); // nothing: no restart, no harm
    clock.advance(1);
    expect(transport.messages.map((m) => decoder.decode(m))).toEqual(['190']);
    expect(session.key).toBe(190);
  });

  it('a digit within the quiet period restarts it', () => {
    const { session, transport, clock } = serve();
    session.push(utf8('2'));
    clock.advance(SEED_QUIET_MS - 1);
    session.push(utf8('5')); // 25: 250..256 still fit
    clock.advance(SEED_QUIET_MS - 1);
    expect(transport.messages).toHaveLength(0);
    expect(session.heldBytes).toBe(2);
    clock.advance(1);
    expect(session.ready).toBe(false); // 25 is no power of 11 modulo 257
  });

  it('accepts exactly the 64 keys in the subgroup of 11, 1 and 256 included', () => {
    const subgroup = new Set<number>();
    for (let e = 0, x = 1; e < 64; e++, x = (x * 11) % 257) subgroup.add(x);
    expect(subgroup.size).toBe(64);
    for (let key = 0; key <= 256; key++) {
      const { session, clock, events, transport } = serve();
      session.push(utf8(String(key)));
      clock.advance(SEED_QUIET_MS);
      expect(session.ready, String(key)).toBe(subgroup.has(key));
      if (!subgroup.has(key)) {
        expect(refusal(events).code).toBe('RTT_ERR_BAD_PUBLIC_KEY');
        expect(transport.messages).toHaveLength(0);
        expect(transport.ended).toBe(true);
      }
    }
  });

  it.each([
    ['a non-digit', 'x', 'RTT_ERR_BAD_SEED_KEY'],
    ['a non-digit after digits', '18 ', 'RTT_ERR_BAD_SEED_KEY'],
    ['more than 10 digits', '00000000001', 'RTT_ERR_BAD_SEED_KEY'],
    ['a key over 256', '257', 'RTT_ERR_BAD_SEED_KEY'],
    ['a key outside the subgroup', '183', 'RTT_ERR_BAD_PUBLIC_KEY'],
    ['a key outside the subgroup, after the quiet period', '3', 'RTT_ERR_BAD_PUBLIC_KEY'],
    ['key 0', '0', 'RTT_ERR_BAD_PUBLIC_KEY'],
    ['a key with a command joined to it', `11${'\x0f\x04\x08\x00'}`, 'RTT_ERR_BAD_SEED_KEY'],
  ])('refuses %s (%j) with %s, answers nothing, ends', (_, key, code) => {
    const { session, transport, events, clock } = serve();
    expect(() => session.push(utf8(key))).not.toThrow();
    clock.advance(SEED_QUIET_MS);
    expect(refusal(events).code).toBe(code);
    expect(transport.messages).toHaveLength(0);
    expect(transport.ended).toBe(true);
    expect(clock.pending).toBe(0);
    session.push(encrypt('TIME'));
    clock.advance(SEED_QUIET_MS);
    expect(transport.messages).toHaveLength(0);
    expect(transport.writesAfterEnd).toBe(0);
    expect(events).toHaveLength(1);
    expect(session.ready).toBe(false);
  });

  it('a broken random source is refused as an internal error, not thrown', () => {
    const { session, events, transport } = serve({ random: (array) => array.fill(0xffff_ffff) });
    expect(() => session.push(utf8('146'))).not.toThrow();
    const error = refusal(events);
    expect(error.code).toBe('RTT_ERR_PROTOCOL');
    expect((error.cause as { code?: string }).code).toBe('RTT_ERR_RANDOM_SOURCE');
    expect(transport.ended).toBe(true);
  });

  it('random bytes as the key never throw: the session is refused or ready', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 4 }), (chunks) => {
        const { session, events, clock } = serve();
        for (const chunk of chunks) session.push(chunk);
        clock.advance(SEED_QUIET_MS);
        const types = events.map((e) => e.type);
        // Once ready, the bytes after the key are commands: answered, never refused.
        if (session.ready) {
          expect(types).toContain('ready');
          expect(types).not.toContain('refused');
        } else if (types.length > 0) expect(types).toEqual(['refused']);
      }),
      { numRuns: 500 },
    );
  });
});

describe('SeedServerSession: split commands and the quiet period', () => {
  it('a command split across segments is answered once, when its rest comes', () => {
    const { session, clock, answers } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TI'));
    clock.advance(SEED_QUIET_MS - 1);
    expect(answers()).toEqual([]);
    expect(session.heldBytes).toBe(2);
    session.push(encrypt('ME'));
    expect(answers()).toEqual([ANSWERS.TIME]);
    expect(clock.pending).toBe(0);
    clock.advance(10 * SEED_QUIET_MS);
    expect(answers()).toEqual([ANSWERS.TIME]);
  });

  it('when the quiet period passes first, each piece is answered as it stands', () => {
    const { session, clock, answers, events } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TI'));
    clock.advance(SEED_QUIET_MS);
    session.push(encrypt('ME'));
    clock.advance(SEED_QUIET_MS);
    expect(answers()).toEqual(['ERROR unknown command "TI"', 'ERROR unknown command "ME"']);
    expect(events.slice(1).map((e) => e.type === 'request' && e.ok)).toEqual([false, false]);
  });

  it('commands before an unfinished one are answered at once', () => {
    const { session, clock, answers } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TIMEDA'));
    expect(answers()).toEqual([ANSWERS.TIME]);
    session.push(encrypt('TE'));
    expect(answers()).toEqual([ANSWERS.TIME, ANSWERS.DATE]);
    expect(clock.pending).toBe(0);
  });

  it('whitespace alone waits for what follows, and is an empty unknown command if nothing does', () => {
    const { session, clock, answers } = serve();
    session.push(utf8('146'));
    session.push(encrypt(' '));
    session.push(encrypt('TEMP'));
    session.push(encrypt('\n'));
    clock.advance(SEED_QUIET_MS);
    expect(answers()).toEqual([ANSWERS.TEMP, 'ERROR unknown command ""']);
  });

  it('"T" and endless spaces: held bytes stay capped, answers keep coming, one timer at most', () => {
    const { session, clock, answers } = serve();
    session.push(utf8('146'));
    session.push(encrypt('T'));
    for (let i = 0; i < 5_000; i++) {
      session.push(encrypt(' '));
      expect(session.heldBytes).toBeLessThanOrEqual(SEED_MAX_HELD_BYTES);
      expect(clock.pending).toBeLessThanOrEqual(1);
    }
    const got = answers();
    expect(got[0]).toBe('ERROR unknown command "T"');
    expect(got.length).toBeGreaterThan(5_000 / (SEED_MAX_HELD_BYTES + 1) - 1);
    expect(got.slice(1).every((a) => a === 'ERROR unknown command ""')).toBe(true);
  });

  it('a huge segment of "T" and spaces is answered at once, not held', () => {
    const { session, clock, answers } = serve({ maxHeldBytes: 8 });
    session.push(utf8('146'));
    session.push(encrypt(`TIME T${' '.repeat(100_000)}`));
    expect(answers()).toEqual([ANSWERS.TIME, 'ERROR unknown command "T"']);
    expect(session.heldBytes).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('random bytes as commands never throw, and every answer is a whole encrypted text', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 10 }), (chunks) => {
        const { session, clock, answers, transport } = serve();
        session.push(utf8('146'));
        for (const chunk of chunks) {
          session.push(chunk);
          expect(session.heldBytes).toBeLessThanOrEqual(SEED_MAX_HELD_BYTES);
        }
        clock.advance(SEED_QUIET_MS);
        for (const text of answers()) {
          const known = Object.values(ANSWERS).includes(text);
          expect(known || text.startsWith('ERROR unknown command "'), text).toBe(true);
        }
        expect(transport.ended).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('SeedServerSession: the app and the end of a session', () => {
  it('an answer() that throws (or returns no string) is answered as an internal error', () => {
    const { session, answers, events } = serve({
      answer: (command) => {
        if (command === 'DATE') throw new Error('sensor on fire');
        if (command === 'TEMP') return 21 as never;
        return ANSWERS[command];
      },
    });
    session.push(utf8('146'));
    session.push(encrypt('TIMEDATETEMPTIME'));
    expect(answers()).toEqual([
      ANSWERS.TIME,
      'ERROR internal error',
      'ERROR internal error',
      ANSWERS.TIME,
    ]);
    expect(events.slice(1).map((e) => e.type === 'request' && e.ok)).toEqual([
      true,
      false,
      false,
      true,
    ]);
  });

  it('shutdown() ends the transport, stops the timers, and ignores what comes after', () => {
    const inKey = serve();
    inKey.session.push(utf8('1'));
    expect(inKey.clock.pending).toBe(1);
    inKey.session.shutdown();
    expect(inKey.clock.pending).toBe(0);
    expect(inKey.transport.ended).toBe(true);
    inKey.clock.advance(SEED_QUIET_MS);
    expect(inKey.transport.messages).toHaveLength(0);

    const { session, clock, transport, answers } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TI'));
    session.shutdown();
    session.shutdown(); // once is enough
    expect(clock.pending).toBe(0);
    session.push(encrypt('ME'));
    clock.advance(SEED_QUIET_MS);
    expect(answers()).toEqual([]);
    expect(transport.writesAfterEnd).toBe(0);
    expect(session.ready).toBe(false);
    expect(session.heldBytes).toBe(0);
  });

  it('close() stops the timers and every write, without ending the transport', () => {
    const { session, clock, transport } = serve();
    session.push(utf8('146'));
    session.push(encrypt('TI'));
    session.close();
    expect(clock.pending).toBe(0);
    session.push(encrypt('ME'));
    clock.advance(SEED_QUIET_MS);
    expect(transport.messages).toHaveLength(1); // our key only
    expect(transport.ended).toBe(false);
  });

  it('a listener that shuts the session down mid-segment: the answers already written go, nothing after', () => {
    const { session, transport, answers } = serve({
      onEvent: (event) => {
        if (event.type === 'request') session.shutdown();
      },
    });
    session.push(utf8('146'));
    // The segment's answers are written (one write) before the listener hears of the first.
    session.push(encrypt('TIMEDATETEMP'));
    expect(answers()).toEqual([ANSWERS.TIME, ANSWERS.DATE, ANSWERS.TEMP]);
    session.push(encrypt('TIME'));
    expect(answers()).toHaveLength(3);
    expect(transport.ended).toBe(true);
    expect(transport.writesAfterEnd).toBe(0);
  });

  it('validates its arguments with TypeError and RangeError', () => {
    const transport = memoryTransport();
    const answer = (command: AnsweredCommand) => command;
    expect(() => new SeedServerSession(transport, undefined as never)).toThrow(TypeError);
    expect(() => new SeedServerSession({} as never, { answer })).toThrow(TypeError);
    expect(() => new SeedServerSession(transport, { answer: 'TIME' as never })).toThrow(TypeError);
    expect(() => new SeedServerSession(transport, { answer, onEvent: 1 as never })).toThrow(
      TypeError,
    );
    expect(() => new SeedServerSession(transport, { answer, random: 1 as never })).toThrow(
      TypeError,
    );
    expect(() => new SeedServerSession(transport, { answer, clock: {} as never })).toThrow(
      TypeError,
    );
    expect(() => new SeedServerSession(transport, { answer, quietMs: -1 })).toThrow(RangeError);
    expect(() => new SeedServerSession(transport, { answer, maxHeldBytes: 0.5 })).toThrow(
      RangeError,
    );
    const session = new SeedServerSession(transport, { answer, clock: new FakeClock() });
    expect(() => session.push('146' as never)).toThrow(TypeError);
    session.push(utf8('146')); // a bad argument does not end the session
    expect(session.ready).toBe(true);
  });
});
