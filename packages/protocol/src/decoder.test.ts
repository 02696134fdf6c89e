import type { ByteCipher } from '@rtt/cipher';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { caesar } from '../test/fixtures/caesar.ts';
import { concat, fromHex } from '../test/fixtures/hex.ts';
import { clientStream, serverStream, sessionDecoder, snapshot } from '../test/fixtures/session.ts';
import { CipherId, Command, ErrorCode, Status } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import { concatFrame, encodeError, encodeRequest, encodeResponse } from './encoder.ts';
import {
  BadHelloError,
  FrameTooLargeError,
  MalformedFrameError,
  type ProtocolError,
} from './errors.ts';
import { encodeClientHello, encodeServerHello } from './hello.ts';
import type {
  ClientInboundMessage,
  DecodedMessage,
  Role,
  ServerInboundMessage,
} from './messages.ts';

const clientHello = () => encodeClientHello({ cipher: CipherId.NONE, publicKey: 146 });
const serverHello = () => encodeServerHello({ cipher: CipherId.NONE, publicKey: 190 });

/** Decodes `chunks` with a fresh decoder and returns copies of the messages. */
function decodeAll(
  role: Role,
  chunks: Uint8Array[],
  options: { maxFrameSize?: number; cipher?: ByteCipher } = {},
) {
  const messages: DecodedMessage[] = [];
  const decoder = new FrameDecoder({
    role,
    ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
    onMessage(msg) {
      messages.push(snapshot(msg));
      if (options.cipher && (msg.type === 'client-hello' || msg.type === 'server-hello')) {
        decoder.setCipher(options.cipher);
      }
    },
  });
  for (const chunk of chunks) decoder.push(chunk);
  return { messages, decoder };
}

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** Cuts `bytes` at the given offsets into fresh (copied) chunks. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts)].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, p));
    start = p;
  }
  return chunks;
}

describe('FrameDecoder: messages', () => {
  it('server role: a ClientHello, then REQUEST frames', () => {
    const { messages } = decodeAll('server', [
      concat(
        clientHello(),
        concatFrame(encodeRequest(1, Command.TIME)),
        concatFrame(encodeRequest(0xffff_ffff, Command.PING, 'abc')),
      ),
    ]);
    expect(messages).toEqual([
      { type: 'client-hello', version: 1, cipher: 0, group: 1, publicKey: 146 },
      { type: 'request', id: 1, command: Command.TIME, payload: new Uint8Array(0) },
      {
        type: 'request',
        id: 0xffff_ffff,
        command: Command.PING,
        payload: Uint8Array.from([97, 98, 99]),
      },
    ]);
  });

  it('client role: a ServerHello, then RESPONSE and ERROR frames', () => {
    const { messages } = decodeAll('client', [
      concat(
        serverHello(),
        concatFrame(encodeResponse(3, Status.OK, '6°C')),
        concatFrame(encodeError(ErrorCode.SHUTTING_DOWN, 'bye')),
      ),
    ]);
    expect(messages).toEqual([
      { type: 'server-hello', version: 1, status: 0, cipher: 0, publicKey: 190 },
      { type: 'response', id: 3, status: 0, payload: new TextEncoder().encode('6°C') },
      { type: 'error', code: ErrorCode.SHUTTING_DOWN, message: 'bye' },
    ]);
  });

  it('unknown command codes are not errors', () => {
    const { messages } = decodeAll('server', [
      concat(clientHello(), concatFrame(encodeRequest(9, 0xee))),
    ]);
    expect(messages[1]).toMatchObject({ type: 'request', id: 9, command: 0xee });
  });

  it('an ERROR message with invalid UTF-8 decodes with replacement characters', () => {
    const { messages } = decodeAll('client', [
      concat(serverHello(), fromHex('00 00 00 03 03 07 ff')),
    ]);
    expect(messages[1]).toEqual({ type: 'error', code: 7, message: '\ufffd' });
  });

  it('hands out views into a chunk that holds the whole frame, a copy when it spans chunks', () => {
    const frame = concatFrame(encodeRequest(1, Command.PING, 'hello'));
    const whole = concat(clientHello(), frame);
    const seen: Uint8Array[] = [];
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage: (msg) => {
        if (msg.type === 'request') seen.push(msg.payload);
      },
    });
    decoder.push(whole);
    expect(seen[0]?.buffer).toBe(whole.buffer);
    const again = frame.slice();
    decoder.push(again.subarray(0, 8));
    decoder.push(again.subarray(8));
    expect(seen[1]?.buffer).not.toBe(again.buffer);
    expect(new TextDecoder().decode(seen[1])).toBe('hello');
  });

  it('counts buffered bytes and waits for the rest', () => {
    const { decoder, messages } = decodeAll('server', []);
    const frame = concatFrame(encodeRequest(1, Command.PING, 'abcdef'));
    decoder.push(clientHello().subarray(0, 5));
    expect(decoder.bufferedBytes).toBe(5);
    decoder.push(concat(clientHello().subarray(5), frame.subarray(0, 2)));
    expect(messages).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(2);
    decoder.push(frame.slice(2, 12));
    expect(decoder.bufferedBytes).toBe(8); // 4 of the length were consumed, 8 body bytes held
    decoder.push(frame.slice(12));
    expect(decoder.bufferedBytes).toBe(0);
    expect(messages).toHaveLength(2);
  });

  it('types onMessage by role', () => {
    new FrameDecoder({
      role: 'server',
      onMessage: (msg) => expectTypeOf(msg).toEqualTypeOf<ServerInboundMessage>(),
    });
    new FrameDecoder({
      role: 'client',
      onMessage: (msg) => expectTypeOf(msg).toEqualTypeOf<ClientInboundMessage>(),
    });
  });
});

describe('FrameDecoder: split streams', () => {
  const expectedServer = sessionDecoder('server');
  expectedServer.decoder.push(clientStream());
  const expectedClient = sessionDecoder('client');
  expectedClient.decoder.push(serverStream());

  it('the scripted session decodes with re-key and cipher in both directions', () => {
    expect(expectedServer.messages.map((m) => m.type)).toEqual([
      'client-hello',
      'client-hello',
      'request',
      'request',
      'request',
      'request',
      'request',
    ]);
    expect(expectedServer.messages[5]).toEqual({
      type: 'request',
      id: 4,
      command: Command.PING,
      payload: new TextEncoder().encode('ping'),
    });
    expect(expectedClient.messages.at(-1)).toEqual({
      type: 'error',
      code: ErrorCode.SHUTTING_DOWN,
      message: 'server closing',
    });
  });

  it.each([
    ['server', clientStream, expectedServer.messages],
    ['client', serverStream, expectedClient.messages],
  ] as const)('%s: a split at every byte gives the same messages', (role, stream, expected) => {
    const bytes = stream();
    for (let cut = 0; cut <= bytes.length; cut++) {
      const s = sessionDecoder(role);
      for (const chunk of split(bytes, [cut])) s.decoder.push(chunk);
      expect(s.messages).toEqual(expected);
    }
    const s = sessionDecoder(role);
    for (let i = 0; i < bytes.length; i++) s.decoder.push(bytes.slice(i, i + 1));
    expect(s.messages).toEqual(expected);
    expect(s.decoder.bufferedBytes).toBe(0);
  });

  it.each([
    ['server', clientStream, expectedServer.messages],
    ['client', serverStream, expectedClient.messages],
  ] as const)('%s: random splits give the same messages', (role, stream, expected) => {
    const length = stream().length;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: length }), { maxLength: 40 }), (cuts) => {
        const s = sessionDecoder(role);
        for (const chunk of split(stream(), cuts)) s.decoder.push(chunk);
        expect(s.messages).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('FrameDecoder: round trips', () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const u8 = fc.integer({ min: 0, max: 255 });
  const key = fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined });
  const payload = fc.uint8Array({ maxLength: 300 });

  it('REQUEST frames, with and without a cipher', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(u32, u8, payload), { maxLength: 5 }), key, (requests, k) => {
        const cipher = k === undefined ? null : caesar(k);
        const frames = requests.map(([id, command, p]) =>
          concatFrame(encodeRequest(id, command, p, cipher)),
        );
        const { messages } = decodeAll(
          'server',
          [concat(clientHello(), ...frames)],
          cipher ? { cipher } : {},
        );
        expect(messages.slice(1)).toEqual(
          requests.map(([id, command, p]) => ({ type: 'request', id, command, payload: p })),
        );
      }),
    );
  });

  it('RESPONSE and ERROR frames, with and without a cipher', () => {
    const response = fc.tuple(
      fc.constant('response' as const),
      u32,
      u8,
      fc.oneof(payload, fc.string()),
    );
    const error = fc.tuple(fc.constant('error' as const), u8, fc.string());
    fc.assert(
      fc.property(fc.array(fc.oneof(response, error), { maxLength: 5 }), key, (items, k) => {
        const cipher = k === undefined ? null : caesar(k);
        const frames = items.map((item) =>
          concatFrame(
            item[0] === 'response'
              ? encodeResponse(item[1], item[2], item[3], cipher)
              : encodeError(item[1], item[2], cipher),
          ),
        );
        const { messages } = decodeAll(
          'client',
          [concat(serverHello(), ...frames)],
          cipher ? { cipher } : {},
        );
        expect(messages.slice(1)).toEqual(
          items.map((item) =>
            item[0] === 'response'
              ? {
                  type: 'response',
                  id: item[1],
                  status: item[2],
                  payload:
                    typeof item[3] === 'string' ? new TextEncoder().encode(item[3]) : item[3],
                }
              : { type: 'error', code: item[1], message: item[2] },
          ),
        );
      }),
    );
  });

  it('a body of exactly maxFrameSize passes, one byte more does not', () => {
    const max = 64;
    const ok = concatFrame(encodeRequest(1, 1, new Uint8Array(max - 6), null, max));
    expect(decodeAll('server', [clientHello(), ok], { maxFrameSize: max }).messages).toHaveLength(
      2,
    );
    const big = concatFrame(encodeRequest(1, 1, new Uint8Array(max - 5), null, max + 1));
    expect(() => decodeAll('server', [clientHello(), big], { maxFrameSize: max })).toThrow(
      FrameTooLargeError,
    );
  });
});

describe('FrameDecoder: errors', () => {
  it('rejects an oversize length before buffering any body', () => {
    const { decoder } = decodeAll('server', [clientHello()]);
    const err = thrown(() => decoder.push(fromHex('ff ff ff ff')));
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect((err as FrameTooLargeError).code).toBe('RTT_ERR_FRAME_TOO_LARGE');
    expect((err as FrameTooLargeError).size).toBe(0xffff_ffff);
    expect((err as FrameTooLargeError).wireCode).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('rejects a zero length, an unknown type, a type for the other role and short bodies', () => {
    const cases: Array<[Role, string]> = [
      ['server', '00 00 00 00'],
      ['server', '00 00 00 01 09'],
      ['server', '00 00 00 06 02 00 00 00 01 00'], // RESPONSE sent to a server
      ['server', '00 00 00 05 01 00 00 00 01'], // REQUEST without command byte
      ['client', '00 00 00 06 01 00 00 00 01 01'], // REQUEST sent to a client
      ['client', '00 00 00 05 02 00 00 00 01'], // RESPONSE without status
      ['client', '00 00 00 01 03'], // ERROR without code
      ['client', '00 00 00 01 00'],
    ];
    for (const [role, hex] of cases) {
      const hello = role === 'server' ? clientHello() : serverHello();
      const err = thrown(() => decodeAll(role, [concat(hello, fromHex(hex))]));
      expect(err, hex).toBeInstanceOf(MalformedFrameError);
      expect((err as ProtocolError).code).toBe('RTT_ERR_MALFORMED_FRAME');
    }
  });

  it('rejects a bad magic on its first byte, without waiting for a whole hello', () => {
    for (const hex of ['31', '52 54 58', '16 03 01', '00']) {
      const err = thrown(() => decodeAll('server', [fromHex(hex)]));
      expect(err, hex).toBeInstanceOf(BadHelloError);
      expect((err as BadHelloError).code).toBe('RTT_ERR_BAD_HELLO');
    }
    const err = thrown(() => decodeAll('client', [fromHex('52'), fromHex('54'), fromHex('00')]));
    expect(err).toBeInstanceOf(BadHelloError);
  });

  it('is dead after an error: every later push throws the same error', () => {
    const { decoder } = decodeAll('server', []);
    const first = thrown(() => decoder.push(fromHex('00')));
    expect(first).toBeInstanceOf(BadHelloError);
    expect(thrown(() => decoder.push(clientHello()))).toBe(first);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('wraps an exception from the cipher in a ProtocolError with the cause', () => {
    const boom = new Error('cipher broke');
    const { decoder } = decodeAll('server', [clientHello()]);
    decoder.setCipher({
      name: 'bad',
      encrypt() {},
      decrypt() {
        throw boom;
      },
    });
    const err = thrown(() => decoder.push(concatFrame(encodeRequest(1, 1)))) as ProtocolError;
    expect(err.code).toBe('RTT_ERR_PROTOCOL');
    expect(err.cause).toBe(boom);
    expect(thrown(() => decoder.push(fromHex('00')))).toBe(err);
  });

  it('lets an exception from onMessage through and keeps decoding on the next push', () => {
    const boom = new Error('handler bug');
    const seen: number[] = [];
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage(msg) {
        if (msg.type !== 'request') return;
        seen.push(msg.id);
        if (msg.id === 1) throw boom;
      },
    });
    const bytes = concat(
      clientHello(),
      concatFrame(encodeRequest(1, 1)),
      concatFrame(encodeRequest(2, 1)),
    );
    expect(thrown(() => decoder.push(bytes))).toBe(boom);
    expect(decoder.bufferedBytes).toBe(10);
    decoder.push(new Uint8Array(0));
    expect(seen).toEqual([1, 2]);
  });

  it('validates its arguments with TypeError and RangeError', () => {
    const onMessage = () => {};
    expect(() => new FrameDecoder(undefined as never)).toThrow(TypeError);
    expect(() => new FrameDecoder({ role: 'peer' as never, onMessage })).toThrow(TypeError);
    expect(() => new FrameDecoder({ role: 'server' } as never)).toThrow(TypeError);
    expect(() => new FrameDecoder({ role: 'server', onMessage, maxFrameSize: 0 })).toThrow(
      RangeError,
    );
    expect(() => new FrameDecoder({ role: 'server', onMessage, maxFrameSize: 2 ** 32 })).toThrow(
      RangeError,
    );
    const decoder = new FrameDecoder({ role: 'server', onMessage });
    expect(() => decoder.push('RTT' as never)).toThrow(TypeError);
    expect(() => decoder.setCipher({ name: 'x' } as never)).toThrow(TypeError);
    decoder.push(clientHello()); // a bad argument does not kill the decoder
    expect(decoder.expectingHello).toBe(false);
  });
});

describe('FrameDecoder: an ERROR instead of the ServerHello', () => {
  const refusal = () => concatFrame(encodeError(ErrorCode.HANDSHAKE_TIMEOUT, 'too slow'));

  it('is decoded at every split point, and a hello is still expected after it', () => {
    const bytes = refusal();
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { messages, decoder } = decodeAll('client', split(bytes, [cut]));
      expect(messages).toEqual([
        { type: 'error', code: ErrorCode.HANDSHAKE_TIMEOUT, message: 'too slow' },
      ]);
      expect(decoder.expectingHello).toBe(true);
    }
  });

  it('may follow a weak-key ServerHello after expectHello() (too many re-keys)', () => {
    const messages: DecodedMessage[] = [];
    const decoder = new FrameDecoder({
      role: 'client',
      onMessage(msg) {
        messages.push(snapshot(msg));
        if (msg.type === 'server-hello') decoder.expectHello();
      },
    });
    decoder.push(concat(serverHello(), concatFrame(encodeError(ErrorCode.TOO_MANY_REKEYS))));
    expect(messages.map((m) => m.type)).toEqual(['server-hello', 'error']);
  });

  it('a RESPONSE in place of the ServerHello is malformed', () => {
    expect(() => decodeAll('client', [concatFrame(encodeResponse(1, Status.OK))])).toThrow(
      MalformedFrameError,
    );
  });
});

describe('FrameDecoder: re-key and cipher changes', () => {
  it('reads a second hello after expectHello() called from the callback', () => {
    let hellos = 0;
    const messages: DecodedMessage[] = [];
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage(msg) {
        messages.push(snapshot(msg));
        if (msg.type === 'client-hello' && ++hellos === 1) decoder.expectHello();
      },
    });
    decoder.push(
      concat(
        clientHello(),
        encodeClientHello({ cipher: 1, publicKey: 2 }),
        concatFrame(encodeRequest(1, 1)),
      ),
    );
    expect(messages.map((m) => m.type)).toEqual(['client-hello', 'client-hello', 'request']);
    expect(messages[1]).toMatchObject({ publicKey: 2 });
  });

  it('without expectHello() a second hello reads as a huge length and is refused', () => {
    // "RTT\x01" as a u32 is 0x52545401, far above any sane maxFrameSize.
    expect(() => decodeAll('server', [concat(clientHello(), clientHello())])).toThrow(
      FrameTooLargeError,
    );
  });

  it('setCipher() inside the callback applies to the following frames of the same chunk', () => {
    const c = caesar(99);
    const bytes = concat(
      clientHello(),
      concatFrame(encodeRequest(1, Command.PING, 'x', c)),
      concatFrame(encodeRequest(2, Command.PING, 'y', c)),
    );
    const { messages } = decodeAll('server', [bytes], { cipher: c });
    expect(messages.slice(1)).toEqual([
      { type: 'request', id: 1, command: Command.PING, payload: Uint8Array.of(0x78) },
      { type: 'request', id: 2, command: Command.PING, payload: Uint8Array.of(0x79) },
    ]);
  });

  it('a cipher change between frames affects only later frames; null returns to clear', () => {
    const seen: number[] = [];
    const decoder = new FrameDecoder({
      role: 'server',
      onMessage(msg) {
        if (msg.type !== 'request') return;
        seen.push(msg.id);
        decoder.setCipher(msg.id === 1 ? caesar(5) : null);
      },
    });
    decoder.push(
      concat(
        clientHello(),
        concatFrame(encodeRequest(1, 1)),
        concatFrame(encodeRequest(2, 1, undefined, caesar(5))),
        concatFrame(encodeRequest(3, 1)),
      ),
    );
    expect(seen).toEqual([1, 2, 3]);
    expect(decoder.cipher).toBeNull();
  });

  it('expectHello() in the middle of a frame body is refused', () => {
    const { decoder } = decodeAll('server', [clientHello(), fromHex('00 00 00 08 01')]);
    expect(() => decoder.expectHello()).toThrow(Error);
    expect(decoder.expectingHello).toBe(false);
  });
});

describe('FrameDecoder: chunk types', () => {
  it('hands out plain Uint8Array payloads even for a Uint8Array subclass (like Buffer)', () => {
    class Bytes extends Uint8Array {}
    const bytes = concat(clientHello(), concatFrame(encodeRequest(1, Command.PING, 'abc')));
    const chunk = new Bytes(bytes.length);
    chunk.set(bytes);
    const payloads: Uint8Array[] = [];
    new FrameDecoder({
      role: 'server',
      onMessage: (msg) => {
        if (msg.type === 'request') payloads.push(msg.payload);
      },
    }).push(chunk);
    expect(Object.getPrototypeOf(payloads[0])).toBe(Uint8Array.prototype);
    expect(payloads[0]?.buffer).toBe(chunk.buffer);
  });
});
