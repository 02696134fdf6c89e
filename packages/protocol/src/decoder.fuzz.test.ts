import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caesar } from '../test/fixtures/caesar.ts';
import { concat } from '../test/fixtures/hex.ts';
import { clientStream, serverStream, sessionDecoder } from '../test/fixtures/session.ts';
import { CipherId, Command } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import { concatFrame, encodeRequest } from './encoder.ts';
import { FrameTooLargeError, ProtocolError } from './errors.ts';
import { encodeClientHello, encodeServerHello } from './hello.ts';
import type { Role } from './messages.ts';

const ROLES: Role[] = ['server', 'client'];
const budget = { numRuns: 1_000, interruptAfterTimeLimit: 4_000 };

function hello(role: Role): Uint8Array {
  return role === 'server'
    ? encodeClientHello({ cipher: CipherId.CAESAR, publicKey: 146 })
    : encodeServerHello({ cipher: CipherId.CAESAR, publicKey: 190 });
}

/** Feeds chunks; returns the error thrown, if any. Any non-ProtocolError fails the test. */
function feed(decoder: FrameDecoder, chunks: Uint8Array[]): ProtocolError | null {
  try {
    for (const chunk of chunks) decoder.push(chunk);
    return null;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    expect(err.code).toMatch(/^RTT_ERR_/);
    return err;
  }
}

describe('FrameDecoder fuzz', () => {
  it.each(ROLES)('%s: random bytes give messages or our typed errors only', (role) => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { maxLength: 8 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (chunks, withHello, key) => {
          const decoder = new FrameDecoder({
            role,
            maxFrameSize: 128,
            onMessage(msg) {
              if (key !== undefined && msg.type.endsWith('hello')) decoder.setCipher(caesar(key));
            },
          });
          feed(decoder, withHello ? [hello(role), ...chunks] : chunks);
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(128 + 8);
        },
      ),
      budget,
    );
  });

  it.each([
    ['server', clientStream],
    ['client', serverStream],
  ] as const)('%s: a session with corrupted bytes fails only with typed errors', (role, stream) => {
    const length = stream().length;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: length - 1 }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.array(fc.integer({ min: 0, max: length }), { maxLength: 6 }),
        (flips, cuts) => {
          const bytes = stream();
          for (const [at, value] of flips) bytes[at] = value;
          const s = sessionDecoder(role);
          const points = [0, ...cuts.sort((a, b) => a - b), length];
          const chunks = points.slice(1).map((end, i) => bytes.slice(points[i], end));
          try {
            for (const chunk of chunks) s.decoder.push(chunk);
          } catch (err) {
            // The session's own callback may object to a corrupted third hello.
            if (err instanceof Error && err.message === 'unexpected hello') return;
            expect(err).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      budget,
    );
  });

  it('a length prefix over the limit is refused at once, whatever follows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 65_537, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 32 }),
        (length, rest) => {
          const decoder = new FrameDecoder({ role: 'server', onMessage() {} });
          decoder.push(hello('server'));
          const prefix = new Uint8Array(4);
          new DataView(prefix.buffer).setUint32(0, length);
          expect(feed(decoder, [concat(prefix, rest)])).toBeInstanceOf(FrameTooLargeError);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      budget,
    );
  });
});

describe('FrameDecoder DoS resistance', () => {
  it('a maximum frame sent one byte at a time is gathered in linear time', () => {
    let got = 0;
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage(msg) {
        if (msg.type === 'request') got = msg.payload.length;
      },
    });
    decoder.push(hello('server'));
    const frame = concatFrame(encodeRequest(1, Command.PING, new Uint8Array(65_536 - 6)));
    const start = performance.now();
    for (let i = 0; i < frame.length; i++) {
      decoder.push(frame.subarray(i, i + 1));
      if (decoder.bufferedBytes > 65_536 + 4) throw new Error('buffered past the frame');
    }
    expect(got).toBe(65_530);
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it('a hundred thousand small frames in one chunk decode without copying the chunk', () => {
    const frame = concatFrame(encodeRequest(1, Command.TIME));
    const many = new Uint8Array(100_000 * frame.length);
    for (let i = 0; i < 100_000; i++) many.set(frame, i * frame.length);
    let count = 0;
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage(msg) {
        if (msg.type === 'request' && msg.payload.buffer === many.buffer) count++;
      },
    });
    decoder.push(hello('server'));
    const start = performance.now();
    decoder.push(many);
    expect(count).toBe(100_000);
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it('a length prefix dribbled in one byte at a time holds only those bytes', () => {
    const decoder = new FrameDecoder({ role: 'client', onMessage() {} });
    decoder.push(hello('client'));
    decoder.push(Uint8Array.of(0x00));
    decoder.push(Uint8Array.of(0x01));
    expect(decoder.bufferedBytes).toBe(2);
    decoder.push(Uint8Array.of(0x00));
    expect(() => decoder.push(Uint8Array.of(0x01))).toThrow(FrameTooLargeError);
  });
});

describe('FrameDecoder: partial frames cost what was received', () => {
  /** A server-side stream: a cleartext hello, then requests with payloads of these sizes. */
  function requests(sizes: readonly number[]): Uint8Array {
    return concat(
      hello('server'),
      ...sizes.map((size, i) =>
        concatFrame(encodeRequest(i + 1, Command.PING, new Uint8Array(size).fill(i & 0xff))),
      ),
    );
  }

  function decodeAll(chunks: readonly Uint8Array[], afterPush?: (d: FrameDecoder) => void) {
    const seen: Array<[number, number, number]> = [];
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage(msg) {
        if (msg.type === 'request') {
          const sum = msg.payload.reduce((a, b) => (a + b) & 0xffff, 0);
          seen.push([msg.id, msg.payload.length, sum]);
        }
      },
    });
    for (const chunk of chunks) {
      decoder.push(chunk);
      afterPush?.(decoder);
      // The decoder keeps nothing of a pushed chunk: scribbling over it changes nothing.
      chunk.fill(0xee);
    }
    return seen;
  }

  it('any split decodes as the whole does, and holds at most 1.5 times what it has received', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (sizes, rawCuts) => {
          const bytes = requests(sizes);
          const whole = decodeAll([bytes.slice()]);
          const points = [...new Set(rawCuts.map((n) => n % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks = [...points, bytes.length].map((end, i) =>
            bytes.slice(i === 0 ? 0 : points[i - 1], end),
          );
          const split = decodeAll(chunks, (decoder) => {
            expect(decoder.retainedBytes).toBeLessThanOrEqual(
              Math.max(64, 1.5 * decoder.bufferedBytes) + 8,
            );
          });
          expect(split).toEqual(whole);
          expect(whole.map(([id, length]) => [id, length])).toEqual(
            sizes.map((size, i) => [i + 1, size + 0]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a frame announcing 64 KiB whose body comes slowly costs its bytes so far, not 64 KiB', () => {
    const decoder = new FrameDecoder({ role: 'server', onMessage() {} });
    decoder.push(hello('server'));
    const frame = concatFrame(encodeRequest(1, Command.PING, new Uint8Array(65_536 - 6)));
    decoder.push(frame.slice(0, 4 + 100));
    expect(decoder.bufferedBytes).toBe(100);
    expect(decoder.retainedBytes).toBeLessThanOrEqual(150);
    for (let at = 104; at < 4 + 10_000; at += 100) decoder.push(frame.slice(at, at + 100));
    expect(decoder.bufferedBytes).toBe(10_000);
    expect(decoder.retainedBytes).toBeLessThanOrEqual(15_000);
  });

  it('keeps a copy, not the chunk, of a length prefix cut off at the end of a big chunk', () => {
    const ids: number[] = [];
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage: (msg) => void (msg.type === 'request' && ids.push(msg.id)),
    });
    decoder.push(hello('server'));
    const frame = (id: number) => concatFrame(encodeRequest(id, Command.TIME));
    const many = new Uint8Array(6_001 * 10);
    for (let i = 0; i < 6_001; i++) many.set(frame(i + 1), i * 10);
    decoder.push(many.subarray(0, 6_000 * 10 + 2));
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.retainedBytes).toBe(2);
    const rest = many.slice(6_000 * 10 + 2);
    many.fill(0xee); // the 60 KB chunk can go: the decoder kept its own 2 bytes
    decoder.push(rest);
    expect(ids).toHaveLength(6_001);
    expect(ids.at(-1)).toBe(6_001);
  });
});
