import { publicKeyFor, type RandomSource } from '@rtt/cipher';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../test/fixtures/fake-clock.ts';
import { fromHex, toHex } from '../test/fixtures/hex.ts';
import { memoryTransport } from '../test/fixtures/memory-transport.ts';
import { NotReadyError, type ProtocolError, UnexpectedDataError } from './errors.ts';
import { SeedClientSession, type SeedClientSessionOptions } from './seed-client-session.ts';
import { SeedServerSession } from './seed-server-session.ts';
import { SEED_QUIET_MS } from './seed-wire.ts';
import type { AnsweredCommand, SessionTransport } from './session.ts';

// The golden keys: our private key 7 (public 146), the server's 9 (public 190): key 187.
const KEY = 187;

/** A random source that makes `createSeedKeyPair` pick `privateKey` (it draws v mod 1001). */
const pickSeedPrivate =
  (privateKey: number): RandomSource =>
  (array) => {
    array.fill(privateKey);
  };
/** The same for the server's `createKeyPair` (it draws 1 + v mod 255). */
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
/** The Caesar shift, written out here rather than taken from @rtt/cipher: a cross-check. */
const encrypt = (text: string, key = KEY) => utf8(text).map((b) => (b + key) & 0xff);

function client(options: Partial<SeedClientSessionOptions> = {}) {
  const transport = memoryTransport();
  const clock = new FakeClock();
  const ready: number[] = [];
  const answers: string[] = [];
  const failures: ProtocolError[] = [];
  const session = new SeedClientSession(transport, {
    onReady: (key) => ready.push(key),
    onAnswer: (text) => answers.push(text),
    onFailure: (error) => failures.push(error),
    random: pickSeedPrivate(7),
    clock,
    ...options,
  });
  return { session, transport, clock, ready, answers, failures };
}

describe('SeedClientSession: a golden session', () => {
  it('writes our key, reads theirs, sends a command and reads its answer, byte for byte', () => {
    const { session, transport, ready, answers, failures } = client();
    session.start();
    session.start(); // once is enough
    expect(transport.messages.map(toHex)).toEqual(['31 34 36']); // "146"
    session.push(fromHex('31 39 30')); // "190"
    expect(ready).toEqual([KEY]);
    expect(session.ready).toBe(true);
    expect(session.key).toBe(KEY);
    session.request('TIME');
    expect(session.inFlight).toBe(true);
    expect(toHex(transport.messages[1] as Uint8Array)).toBe('0f 04 08 00');
    session.push(fromHex('eb eb f5 eb ed f5 ec f4 e9 ec f4 f3 ec eb f4'));
    expect(answers).toEqual([ANSWERS.TIME]);
    expect(session.inFlight).toBe(false);
    session.request('TEMP');
    expect(toHex(transport.messages[2] as Uint8Array)).toBe('0f 00 08 0b');
    session.push(fromHex('f1 7d 6b fe'));
    expect(answers).toEqual([ANSWERS.TIME, ANSWERS.TEMP]);
    expect(failures).toEqual([]);
  });

  it('the server key split at every point gives the same key, with no wait', () => {
    for (const pieces of [
      ['1', '90'],
      ['19', '0'],
      ['1', '9', '0'],
    ]) {
      const { session, ready, clock } = client();
      session.start();
      for (const piece of pieces) session.push(utf8(piece));
      expect(ready).toEqual([KEY]); // 190 takes no further digit: taken at once
      expect(clock.pending).toBe(0);
    }
  });

  it('a key that could take another digit is taken after the quiet period', () => {
    // The server's private key 1 gives public key 11 (110 would still fit); with our private
    // key 7 the shared secret is 11^7 = 146.
    const { session, ready, clock } = client();
    session.start();
    session.push(utf8('1'));
    clock.advance(SEED_QUIET_MS - 1);
    session.push(utf8('1'));
    clock.advance(SEED_QUIET_MS - 1);
    expect(ready).toEqual([]);
    expect(() => session.request('TIME')).toThrow(NotReadyError);
    clock.advance(1);
    expect(ready).toEqual([146]);
    expect(publicKeyFor(7)).toBe(146);
  });

  it('key 0: ready, and everything in clear', () => {
    // Our private key 32 and the server's 9: 11^(32*9) = 11^32 = 256 (11 has order 64), and
    // 256 mod 256 is Caesar key 0.
    const { session, transport, ready, answers } = client({ random: pickSeedPrivate(32) });
    session.start();
    session.push(utf8('190'));
    expect(ready).toEqual([0]);
    session.request('DATE');
    expect(new TextDecoder().decode(transport.messages[1])).toBe('DATE');
    session.push(utf8(ANSWERS.DATE));
    expect(answers).toEqual([ANSWERS.DATE]);
  });
});

describe('SeedClientSession: what the server may get wrong', () => {
  it.each([
    ['a non-digit', 'x', 'RTT_ERR_BAD_SEED_KEY'],
    ['a key over 256', '257', 'RTT_ERR_BAD_SEED_KEY'],
    ['more than 10 digits', '00000000001', 'RTT_ERR_BAD_SEED_KEY'],
    ['a key outside the subgroup', '183', 'RTT_ERR_BAD_PUBLIC_KEY'],
    ['a key outside the subgroup, after the quiet period', '3', 'RTT_ERR_BAD_PUBLIC_KEY'],
    ['key 0', '0', 'RTT_ERR_BAD_PUBLIC_KEY'],
  ])('%s (%j) fails once with %s', (_, key, code) => {
    const { session, clock, ready, failures, transport } = client();
    session.start();
    expect(() => session.push(utf8(key))).not.toThrow();
    clock.advance(SEED_QUIET_MS);
    expect(failures.map((e) => e.code)).toEqual([code]);
    expect(ready).toEqual([]);
    session.push(utf8('190'));
    clock.advance(SEED_QUIET_MS);
    expect(failures).toHaveLength(1);
    expect(() => session.request('TIME')).toThrow(NotReadyError);
    expect(transport.messages).toHaveLength(1); // our key only
    expect(clock.pending).toBe(0);
  });

  it('bytes before our key, or with no request in flight, fail once as unexpected data', () => {
    const early = client();
    early.session.push(utf8('190'));
    expect(early.failures).toHaveLength(1);
    expect(early.failures[0]).toBeInstanceOf(UnexpectedDataError);
    expect(early.failures[0]?.code).toBe('RTT_ERR_UNEXPECTED_DATA');
    early.session.start();
    expect(early.transport.messages).toHaveLength(0); // over: nothing is sent

    const { session, failures, answers } = client();
    session.start();
    session.push(utf8('190'));
    session.push(encrypt('00:00'));
    session.push(encrypt('00:00'));
    expect(failures.map((e) => e.code)).toEqual(['RTT_ERR_UNEXPECTED_DATA']);
    expect((failures[0] as UnexpectedDataError).length).toBe(5);
    expect(answers).toEqual([]);
  });

  it('one answer per chunk, as the seed assumes: a second chunk is unexpected', () => {
    const { session, failures, answers } = client();
    session.start();
    session.push(utf8('190'));
    session.request('TIME');
    session.push(encrypt('00:02:19'));
    session.push(encrypt('.198109'));
    expect(answers).toEqual(['00:02:19']);
    expect(failures.map((e) => e.code)).toEqual(['RTT_ERR_UNEXPECTED_DATA']);
  });

  it('random bytes from the server never throw, and fail at most once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 6 }),
        fc.boolean(),
        (chunks, ask) => {
          const { session, clock, failures } = client();
          session.start();
          for (const chunk of chunks) {
            session.push(chunk);
            clock.advance(SEED_QUIET_MS);
            if (ask && session.ready && !session.inFlight) session.request('TIME');
          }
          expect(failures.length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('SeedClientSession: the caller’s side', () => {
  it('request() before ready, or while one is in flight, throws NotReadyError', () => {
    const { session } = client();
    expect(() => session.request('TIME')).toThrow(NotReadyError);
    session.start();
    expect(() => session.request('TIME')).toThrow(NotReadyError);
    session.push(utf8('190'));
    session.request('TIME');
    const err = (() => {
      try {
        session.request('DATE');
      } catch (e) {
        return e as ProtocolError;
      }
    })();
    expect(err?.code).toBe('RTT_ERR_NOT_READY');
    session.push(encrypt(ANSWERS.TIME));
    session.request('DATE'); // free again
  });

  it('sends any non-empty text; refuses an empty or non-string command', () => {
    const { session, transport } = client();
    session.start();
    session.push(utf8('190'));
    expect(() => session.request('')).toThrow(RangeError);
    expect(() => session.request(5 as never)).toThrow(TypeError);
    session.request('hello');
    expect(transport.messages[1]).toEqual(encrypt('hello'));
  });

  it('close() stops the key timer and ignores what comes after', () => {
    const { session, clock, ready, failures } = client();
    session.start();
    session.push(utf8('1'));
    expect(clock.pending).toBe(1);
    session.close();
    expect(clock.pending).toBe(0);
    session.push(utf8('90'));
    clock.advance(SEED_QUIET_MS);
    expect(ready).toEqual([]);
    expect(failures).toEqual([]);
    expect(session.ready).toBe(false);
  });

  it('lets an exception from onAnswer through (it is the caller’s)', () => {
    const boom = new Error('caller bug');
    const { session } = client({
      onAnswer: () => {
        throw boom;
      },
    });
    session.start();
    session.push(utf8('190'));
    session.request('TIME');
    expect(() => session.push(encrypt('x'))).toThrow(boom);
  });

  it('validates its arguments with TypeError and RangeError', () => {
    const transport = memoryTransport();
    const callbacks = { onReady: vi.fn(), onAnswer: vi.fn(), onFailure: vi.fn() };
    expect(() => new SeedClientSession(transport, undefined as never)).toThrow(TypeError);
    expect(() => new SeedClientSession({} as never, callbacks)).toThrow(TypeError);
    expect(
      () => new SeedClientSession(transport, { ...callbacks, onAnswer: undefined as never }),
    ).toThrow(TypeError);
    expect(() => new SeedClientSession(transport, { ...callbacks, random: 1 as never })).toThrow(
      TypeError,
    );
    expect(() => new SeedClientSession(transport, { ...callbacks, clock: {} as never })).toThrow(
      TypeError,
    );
    expect(() => new SeedClientSession(transport, { ...callbacks, quietMs: 1.5 })).toThrow(
      RangeError,
    );
    const session = new SeedClientSession(transport, callbacks);
    expect(() => session.push([1] as never)).toThrow(TypeError);
  });
});

describe('SeedClientSession with SeedServerSession, no socket', () => {
  /** Two sessions back to back; each side's writes are queued and delivered by `pump()`. */
  function pair(clientPrivate: number, serverPrivate: number) {
    const clock = new FakeClock();
    const queue: Array<['client' | 'server', Uint8Array]> = [];
    const side = (to: 'client' | 'server'): SessionTransport => ({
      write: (parts) => {
        for (const part of parts) queue.push([to, part.slice()]);
      },
      end: () => {},
    });
    const got: { key?: number; answers: string[]; failures: ProtocolError[] } = {
      answers: [],
      failures: [],
    };
    const server = new SeedServerSession(side('client'), {
      answer: (command) => ANSWERS[command],
      clock,
      random: pickPrivate(serverPrivate),
    });
    const seed = new SeedClientSession(side('server'), {
      onReady: (key) => {
        got.key = key;
      },
      onAnswer: (text) => got.answers.push(text),
      onFailure: (error) => got.failures.push(error),
      random: pickSeedPrivate(clientPrivate),
      clock,
    });
    const pump = () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        if (next[0] === 'server') server.push(next[1]);
        else seed.push(next[1]);
      }
      clock.advance(SEED_QUIET_MS);
    };
    return { server, seed, got, pump };
  }

  it('every private key the seed client can pick (0..1000) agrees on the key and talks', () => {
    for (let clientPrivate = 0; clientPrivate <= 1000; clientPrivate++) {
      const { server, seed, got, pump } = pair(clientPrivate, 9);
      seed.start();
      pump(); // our key to the server
      pump(); // its key to us
      expect(got.key, String(clientPrivate)).toBe(server.key);
      seed.request('TEMP');
      pump();
      pump();
      expect(got.answers).toEqual([ANSWERS.TEMP]);
      expect(got.failures).toEqual([]);
    }
  });
});
