import { describe, expect, it } from 'vitest';
import { scriptedRandom } from '../../cipher/test/fixtures/random-source.ts';
import { FakeClock } from '../test/fixtures/fake-clock.ts';
import { memoryTransport } from '../test/fixtures/memory-transport.ts';
import { clientStream, rounds } from '../test/fixtures/session.ts';
import { ErrorCode } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import type { ClientInboundMessage } from './messages.ts';
import { ServerConnection } from './server-connection.ts';
import type { ServerSessionEvent } from './session.ts';

function connection(options: { handshakeTimeoutMs?: number } = {}) {
  const transport = memoryTransport();
  const time = new FakeClock();
  const events: ServerSessionEvent[] = [];
  const served = new ServerConnection(transport, {
    answer: (command) => command,
    onEvent: (event) => events.push(event),
    clock: time,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 1_000,
    // The scripted session's server keys (createKeyPair draws k from the word k - 1).
    random: scriptedRandom(...rounds.map((r) => r.serverPrivate - 1)),
  });
  return { transport, time, events, served };
}

function cleartext(bytes: Uint8Array): ClientInboundMessage[] {
  const messages: ClientInboundMessage[] = [];
  new FrameDecoder({ role: 'client', onMessage: (m) => messages.push({ ...m }) }).push(bytes);
  return messages;
}

describe('ServerConnection', () => {
  it('serves our framed protocol when the first byte is R, and stops the timer once ready', () => {
    const { transport, time, served } = connection();
    served.push(clientStream());
    expect(served.wire).toBe('framed');
    expect(served.ready).toBe(true);
    expect(time.pending).toBe(0);
    time.advance(10_000);
    expect(transport.ended).toBe(false);
  });

  it('serves the seed wire when the first byte is a digit', () => {
    const { transport, served, events } = connection();
    served.push(new TextEncoder().encode('146'));
    expect(served.wire).toBe('seed');
    expect(served.ready).toBe(true);
    expect(new TextDecoder().decode(transport.bytes())).toMatch(/^\d{1,3}$/);
    expect(events[0]).toMatchObject({ type: 'ready', wire: 'seed' });
  });

  it('refuses any other first byte, as RTT_ERR_UNKNOWN_WIRE, and ends', () => {
    const { transport, served, events } = connection();
    served.push(Uint8Array.of(0xff, 0x00));
    expect(transport.messages).toEqual([]);
    expect(transport.ended).toBe(true);
    expect(events).toEqual([
      {
        type: 'refused',
        wire: undefined,
        error: expect.objectContaining({
          code: 'RTT_ERR_UNKNOWN_WIRE',
          message: 'neither our protocol nor the seed wire (first byte 0xff)',
        }),
      },
    ]);
    served.push(clientStream());
    expect(transport.messages).toEqual([]);
  });

  it('closes a silent client at the handshake timeout, not a moment before', () => {
    const { transport, time, events } = connection({ handshakeTimeoutMs: 300 });
    time.advance(299);
    expect(transport.ended).toBe(false);
    time.advance(1);
    expect(transport.ended).toBe(true);
    expect(events).toEqual([
      {
        type: 'refused',
        wire: undefined,
        error: expect.objectContaining({
          code: 'RTT_ERR_HANDSHAKE_TIMEOUT',
          message: 'no key exchange within 0.3 s',
        }),
      },
    ]);
  });

  it('tells a framed client that stalls mid-hello: ERROR HANDSHAKE_TIMEOUT, in clear', () => {
    const { transport, time, served, events } = connection({ handshakeTimeoutMs: 300 });
    served.push(new TextEncoder().encode('RTT'));
    time.advance(300);
    expect(cleartext(transport.bytes())).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.HANDSHAKE_TIMEOUT }),
    ]);
    expect(transport.ended).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['refused']);
  });

  it('takes a seed key that trickles in once the client is quiet, and stops the timer', () => {
    const { transport, time, served, events } = connection({ handshakeTimeoutMs: 300 });
    served.push(new TextEncoder().encode('1'));
    time.advance(20);
    served.push(new TextEncoder().encode('1'));
    time.advance(20);
    expect(served.ready).toBe(false);
    time.advance(10);
    expect(served.ready).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['ready']);
    time.advance(1_000);
    expect(transport.ended).toBe(false);
  });

  it('on shutdown, says SHUTTING_DOWN on the framed wire and ends; a silent client is just ended', () => {
    const framed = connection();
    framed.served.push(clientStream());
    framed.served.shutdown();
    expect(framed.transport.ended).toBe(true);
    expect(framed.time.pending).toBe(0);

    const silent = connection();
    silent.served.shutdown();
    expect(silent.transport.ended).toBe(true);
    expect(silent.transport.messages).toEqual([]);
    expect(silent.time.pending).toBe(0);
    silent.time.advance(10_000);
    expect(silent.events).toEqual([]);
  });

  it('after close() nothing is read, written or timed', () => {
    const { transport, time, served, events } = connection();
    served.close();
    served.push(clientStream());
    time.advance(10_000);
    expect(transport.messages).toEqual([]);
    expect(events).toEqual([]);
    expect(time.pending).toBe(0);
  });

  it('refuses a bad seed key once: the handshake timer stops with the refusal', () => {
    const { transport, time, served, events } = connection({ handshakeTimeoutMs: 300 });
    served.push(new TextEncoder().encode('183'));
    expect(transport.ended).toBe(true);
    expect(time.pending).toBe(0);
    time.advance(1_000);
    expect(events).toEqual([
      {
        type: 'refused',
        wire: 'seed',
        error: expect.objectContaining({ code: 'RTT_ERR_BAD_PUBLIC_KEY' }),
      },
    ]);
  });

  it('closes garbage and silence at once (abort), owing them no answer', () => {
    const aborted: unknown[] = [];
    const transport = { ...memoryTransport(), abort: (error?: unknown) => aborted.push(error) };
    const served = new ServerConnection(transport, { answer: () => '', clock: new FakeClock() });
    served.push(Uint8Array.of(0x16, 0x03));
    expect(aborted).toEqual([undefined]);
  });

  it("aborts the connection with the listener's exception, from a timer as from push()", () => {
    const time = new FakeClock();
    const aborted: unknown[] = [];
    const transport = { ...memoryTransport(), abort: (error?: unknown) => aborted.push(error) };
    const bug = new Error('listener bug');
    new ServerConnection(transport, {
      answer: () => '',
      clock: time,
      handshakeTimeoutMs: 100,
      onEvent: () => {
        throw bug;
      },
    });
    // The timeout refuses the silent client (abort), then the listener throws (abort again,
    // with the error): nothing escapes the timer.
    expect(() => time.advance(100)).not.toThrow();
    expect(aborted).toEqual([undefined, bug]);
  });

  it('checks its options', () => {
    expect(() => new ServerConnection(memoryTransport(), {} as never)).toThrow(TypeError);
    expect(
      () => new ServerConnection(memoryTransport(), { answer: () => '', handshakeTimeoutMs: 0 }),
    ).toThrow(RangeError);
  });
});
