import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scriptedRandom } from '../../cipher/test/fixtures/random-source.ts';
import { concat } from '../test/fixtures/hex.ts';
import { memoryTransport } from '../test/fixtures/memory-transport.ts';
import { clientStream, rounds, serverStream, sessionDecoder } from '../test/fixtures/session.ts';
import { CipherId, Command, ErrorCode, HelloStatus, Status } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import { concatFrame, encodeRequest } from './encoder.ts';
import { FramedServerSession } from './framed-server-session.ts';
import { encodeClientHello } from './hello.ts';
import type { ClientInboundMessage } from './messages.ts';
import type { AnsweredCommand, ServerSessionEvent } from './session.ts';

// The scripted session's answers (test/fixtures/session.ts), so the output can be compared
// with its server stream byte for byte.
const SCRIPTED: Record<AnsweredCommand, string> = {
  TIME: '14:03:07.123456',
  DATE: '2025-11-25',
  TEMP: '21°C',
};

// createKeyPair draws a private key k in 1..255 from the word k - 1.
const serverKeys = () => scriptedRandom(...rounds.map((r) => r.serverPrivate - 1));

function scriptedServer() {
  const transport = memoryTransport();
  const events: ServerSessionEvent[] = [];
  const session = new FramedServerSession(transport, {
    answer: (command) => SCRIPTED[command],
    onEvent: (event) => events.push(event),
    random: serverKeys(),
  });
  return { transport, session, events };
}

/** Decodes what a server wrote, in clear (every hello and ERROR here is cleartext). */
function cleartext(bytes: Uint8Array): ClientInboundMessage[] {
  const messages: ClientInboundMessage[] = [];
  const decoder = new FrameDecoder({
    role: 'client',
    onMessage: (message) => messages.push({ ...message }),
  });
  decoder.push(bytes);
  expect(decoder.bufferedBytes).toBe(0);
  return messages;
}

const hello = (publicKey: number, cipher: number = CipherId.CAESAR) =>
  encodeClientHello({ cipher, publicKey });

describe('FramedServerSession', () => {
  it('plays the scripted session byte for byte: weak round, re-key, answers, SHUTTING_DOWN', () => {
    const { transport, session, events } = scriptedServer();
    session.push(clientStream());
    expect(session.ready).toBe(true);
    expect(session.key).toBe(187);
    session.shutdown();
    expect(transport.bytes()).toEqual(serverStream());
    expect(transport.ended).toBe(true);
    expect(events).toEqual([
      { type: 'rekey', round: 1 },
      { type: 'ready', wire: 'framed', key: 187, rounds: 2 },
      ...(
        [
          ['TIME', true],
          ['DATE', true],
          ['TEMP', true],
          ['PING', true],
          ['unknown', false],
        ] as const
      ).map(([command, ok]) => ({ type: 'request', wire: 'framed', command, ok })),
    ]);
  });

  it('writes the same bytes however the client stream is cut (every split point)', () => {
    const stream = clientStream();
    for (let cut = 0; cut <= stream.length; cut++) {
      const { transport, session } = scriptedServer();
      session.push(stream.slice(0, cut));
      session.push(stream.slice(cut));
      session.shutdown();
      expect(transport.bytes()).toEqual(serverStream());
    }
  });

  it('writes the same bytes for any random cutting into chunks (fast-check)', () => {
    const stream = clientStream();
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 })), (cuts) => {
        const { transport, session } = scriptedServer();
        let from = 0;
        for (const at of [...cuts.sort((a, b) => a - b), stream.length]) {
          session.push(stream.slice(from, at));
          from = at;
        }
        session.shutdown();
        expect(transport.bytes()).toEqual(serverStream());
      }),
    );
  });

  it('answers a failing answer() with INTERNAL_ERROR and keeps serving', () => {
    const transport = memoryTransport();
    const events: ServerSessionEvent[] = [];
    const session = new FramedServerSession(transport, {
      answer: () => {
        throw new Error('sensor gone');
      },
      onEvent: (event) => events.push(event),
      ciphers: [CipherId.NONE],
    });
    session.push(hello(11 ** 4 % 257, CipherId.NONE));
    session.push(concatFrame(encodeRequest(1, Command.TEMP)));
    session.push(concatFrame(encodeRequest(2, Command.PING, 'still here')));
    const [serverHello, failed, ping] = cleartext(transport.bytes());
    expect(serverHello).toMatchObject({ type: 'server-hello', status: HelloStatus.OK });
    expect(failed).toMatchObject({ type: 'response', id: 1, status: Status.INTERNAL_ERROR });
    expect(ping).toMatchObject({ type: 'response', id: 2, status: Status.OK });
    expect(new TextDecoder().decode((ping as { payload: Uint8Array }).payload)).toBe('still here');
    expect(events.filter((e) => e.type === 'request').map((e) => 'ok' in e && e.ok)).toEqual([
      false,
      true,
    ]);
    expect(transport.ended).toBe(false);
  });

  it('refuses a bad public key with a refusing ServerHello, then ends and reads nothing more', () => {
    const { transport, session, events } = scriptedServer();
    session.push(hello(183));
    session.push(concatFrame(encodeRequest(1, Command.TIME)));
    expect(cleartext(transport.bytes())).toEqual([
      expect.objectContaining({ type: 'server-hello', status: HelloStatus.BAD_PUBLIC_KEY }),
    ]);
    expect(transport.ended).toBe(true);
    expect(transport.writesAfterEnd).toBe(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'refused', error: { code: 'RTT_ERR_BAD_PUBLIC_KEY' } });
  });

  it('answers bad bytes with the ERROR frame the decoder names, then ends', () => {
    const { transport, session, events } = scriptedServer();
    session.push(Uint8Array.from([0x52, 0x54, 0x58, 1, 1, 1, 0, 5]));
    expect(cleartext(transport.bytes())).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.BAD_HELLO }),
    ]);
    expect(transport.ended).toBe(true);
    expect(events[0]).toMatchObject({ type: 'refused', error: { code: 'RTT_ERR_BAD_HELLO' } });
  });

  it('says HANDSHAKE_TIMEOUT in clear when told the time is up, and nothing once ready', () => {
    const { transport, session, events } = scriptedServer();
    session.push(hello(11 ** 4 % 257).subarray(0, 5));
    session.handshakeTimedOut(300);
    expect(cleartext(transport.bytes())).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.HANDSHAKE_TIMEOUT }),
    ]);
    expect(events[0]).toMatchObject({
      type: 'refused',
      error: { code: 'RTT_ERR_HANDSHAKE_TIMEOUT', message: 'no key exchange within 0.3 s' },
    });

    const ready = scriptedServer();
    ready.session.push(clientStream());
    const before = ready.transport.messages.length;
    ready.session.handshakeTimedOut(300);
    expect(ready.transport.messages.length).toBe(before);
    expect(ready.transport.ended).toBe(false);
  });

  it('reads nothing more of a chunk once refused: a request behind a bad hello is not answered', () => {
    const transport = memoryTransport();
    const events: ServerSessionEvent[] = [];
    let asked = 0;
    const session = new FramedServerSession(transport, {
      answer: () => {
        asked += 1;
        return 'x';
      },
      onEvent: (event) => events.push(event),
    });
    session.push(concat(hello(183), concatFrame(encodeRequest(1, Command.TIME))));
    expect(asked).toBe(0);
    expect(transport.writesAfterEnd).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['refused']);
  });

  it('answers an answer too long for a frame with INTERNAL_ERROR, and serves on', () => {
    const transport = memoryTransport();
    const session = new FramedServerSession(transport, {
      answer: (command) => (command === 'TEMP' ? 'x'.repeat(70_000) : 'fine'),
      ciphers: [CipherId.NONE],
    });
    session.push(hello(11 ** 4 % 257, CipherId.NONE));
    session.push(concatFrame(encodeRequest(1, Command.TEMP)));
    session.push(concatFrame(encodeRequest(2, Command.DATE)));
    const [, tooLong, fine] = cleartext(transport.bytes());
    expect(tooLong).toMatchObject({ type: 'response', id: 1, status: Status.INTERNAL_ERROR });
    expect(fine).toMatchObject({ type: 'response', id: 2, status: Status.OK });
    expect(transport.ended).toBe(false);
  });

  it("lets the event listener's own exception through instead of refusing the client for it", () => {
    const transport = memoryTransport();
    const session = new FramedServerSession(transport, {
      answer: () => 'x',
      onEvent: (event) => {
        if (event.type === 'request') throw new Error('listener bug');
      },
      ciphers: [CipherId.NONE],
    });
    session.push(hello(11 ** 4 % 257, CipherId.NONE));
    expect(() => session.push(concatFrame(encodeRequest(1, Command.TIME)))).toThrow('listener bug');
    expect(transport.ended).toBe(false);
  });

  it("answers CLOCK with the server's clock in microseconds since the epoch", () => {
    const transport = memoryTransport();
    const session = new FramedServerSession(transport, {
      answer: () => 'x',
      ciphers: [CipherId.NONE],
    });
    session.push(hello(11 ** 4 % 257, CipherId.NONE));
    const before = Date.now() * 1000;
    session.push(concatFrame(encodeRequest(1, Command.CLOCK)));
    const after = Date.now() * 1000;
    const [, clock] = cleartext(transport.bytes());
    expect(clock).toMatchObject({ type: 'response', id: 1, status: Status.OK });
    const text = new TextDecoder().decode((clock as { payload: Uint8Array }).payload);
    expect(text).toMatch(/^\d{16}$/);
    // The session's clock is performance.timeOrigin + now(), which may drift a little from
    // Date.now() over a process's life: a second either way is plenty.
    expect(Number(text)).toBeGreaterThanOrEqual(before - 1_000_000);
    expect(Number(text)).toBeLessThanOrEqual(after + 1_000_000);
  });

  it('idleTimedOut() says nothing before the keys, then IDLE_TIMEOUT (encrypted) and ends', () => {
    const early = scriptedServer();
    early.session.idleTimedOut(1_000);
    expect(early.transport.messages).toEqual([]);
    expect(early.transport.ended).toBe(false);

    const { transport, session, events } = scriptedServer();
    session.push(clientStream());
    const written = transport.messages.length;
    session.idleTimedOut(300_000);
    expect(transport.ended).toBe(true);
    expect(transport.messages).toHaveLength(written + 1);
    // The frame is encrypted with the session key (187): its body is not the clear code.
    const s = sessionDecoder('client');
    s.decoder.push(concat(...transport.messages));
    expect(s.messages.at(-1)).toEqual({
      type: 'error',
      code: ErrorCode.IDLE_TIMEOUT,
      message: 'idle for 300 s',
    });
    expect(events.at(-1)).toMatchObject({
      type: 'refused',
      wire: 'framed',
      error: { code: 'RTT_ERR_IDLE_TIMEOUT', wireCode: ErrorCode.IDLE_TIMEOUT },
    });
    session.idleTimedOut(300_000);
    expect(transport.writesAfterEnd).toBe(0);
  });

  it('writes nothing after close()', () => {
    const { transport, session } = scriptedServer();
    session.close();
    session.push(clientStream());
    session.shutdown();
    expect(transport.messages).toEqual([]);
  });

  it('checks its options', () => {
    expect(() => new FramedServerSession(memoryTransport(), {} as never)).toThrow(TypeError);
  });

  it('keeps a frame arriving in pieces as buffered bytes, not as an answer', () => {
    const { transport, session } = scriptedServer();
    const stream = clientStream();
    const helloBytes = 16;
    session.push(stream.subarray(0, helloBytes + 3));
    expect(session.bufferedBytes).toBe(3);
    expect(transport.messages).toHaveLength(2);
    expect(concat(...transport.messages)).toEqual(serverStream().subarray(0, 16));
  });
});
