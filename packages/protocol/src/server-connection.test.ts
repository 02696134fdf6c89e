import { describe, expect, it, vi } from 'vitest';
import { scriptedRandom } from '../../cipher/test/fixtures/random-source.ts';
import { caesar } from '../test/fixtures/caesar.ts';
import { FakeClock } from '../test/fixtures/fake-clock.ts';
import { memoryTransport } from '../test/fixtures/memory-transport.ts';
import { clientStream, rounds, SESSION_KEY, sessionDecoder } from '../test/fixtures/session.ts';
import { Command, ErrorCode } from './constants.ts';
import { FrameDecoder } from './decoder.ts';
import { concatFrame, encodeRequest } from './encoder.ts';
import type { ClientInboundMessage } from './messages.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, ServerConnection } from './server-connection.ts';
import type { ServerSessionEvent } from './session.ts';

function connection(options: { handshakeTimeoutMs?: number; idleTimeoutMs?: number } = {}) {
  const transport = memoryTransport();
  const time = new FakeClock();
  const events: ServerSessionEvent[] = [];
  const served = new ServerConnection(transport, {
    answer: (command) => command,
    onEvent: (event) => events.push(event),
    clock: time,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 1_000,
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
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
    const { transport, time, served } = connection({ idleTimeoutMs: 0 });
    served.push(clientStream());
    expect(served.wire).toBe('framed');
    expect(served.ready).toBe(true);
    expect(time.pending).toBe(0);
    time.advance(10_000_000);
    expect(transport.ended).toBe(false);
  });

  it('serves the seed wire when the first byte is a digit', () => {
    const { transport, served, events } = connection();
    served.push(new TextEncoder().encode('146'));
    expect(served.wire).toBe('seed');
    expect(served.ready).toBe(true);
    expect(new TextDecoder().decode(transport.bytes())).toMatch(/^\d{1,3}$/);
    // A shared key of 0 (about one server key in 256 here) is served in clear, and said first.
    expect(events.filter((e) => e.type !== 'clear-text')[0]).toMatchObject({
      type: 'ready',
      wire: 'seed',
    });
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
    expect(
      () => new ServerConnection(memoryTransport(), { answer: () => '', idleTimeoutMs: -1 }),
    ).toThrow(RangeError);
    expect(
      () => new ServerConnection(memoryTransport(), { answer: () => '', idleTimeoutMs: 2 ** 31 }),
    ).toThrow(RangeError);
  });
});

describe('ServerConnection: the idle timeout', () => {
  const request = (id: number) =>
    concatFrame(encodeRequest(id, Command.TIME, undefined, caesar(SESSION_KEY)));

  /** What the server wrote, decoded as the scripted client (hellos, then frames). */
  function decoded(messages: readonly Uint8Array[]) {
    const s = sessionDecoder('client');
    for (const message of messages) s.decoder.push(message.slice());
    return s.messages;
  }

  it('framed: counts from the last bytes received, then sends ERROR IDLE_TIMEOUT and ends', () => {
    const { transport, time, served, events } = connection({ idleTimeoutMs: 300 });
    served.push(clientStream());
    time.advance(200);
    served.push(request(6));
    time.advance(100); // 300 since the handshake, 100 since the request: not idle
    expect(transport.ended).toBe(false);
    time.advance(199);
    expect(transport.ended).toBe(false);
    time.advance(1); // 300 since the request
    expect(transport.ended).toBe(true);
    expect(decoded(transport.messages).at(-1)).toEqual({
      type: 'error',
      code: ErrorCode.IDLE_TIMEOUT,
      message: 'idle for 0.3 s',
    });
    expect(events.at(-1)).toEqual({
      type: 'refused',
      wire: 'framed',
      error: expect.objectContaining({ code: 'RTT_ERR_IDLE_TIMEOUT', timeoutMs: 300 }),
    });
    expect(time.pending).toBe(0);
  });

  it('sets no timer per chunk: one timer, re-armed only when it fires', () => {
    const { time, served } = connection({ idleTimeoutMs: 1_000 });
    const setTimeout = vi.spyOn(time, 'setTimeout');
    const clearTimeout = vi.spyOn(time, 'clearTimeout');
    served.push(clientStream());
    const afterHandshake = setTimeout.mock.calls.length;
    for (let id = 10; id < 1_010; id++) {
      served.push(request(id));
      time.advance(1);
    }
    // A thousand chunks over a second: the idle timer fired once and was set again once.
    expect(setTimeout.mock.calls.length - afterHandshake).toBe(1);
    expect(clearTimeout.mock.calls.length).toBeLessThanOrEqual(2);
    expect(time.pending).toBe(1);
  });

  it('seed: closes in silence (the wire cannot say why) and reports it', () => {
    const { transport, time, served, events } = connection({ idleTimeoutMs: 500 });
    served.push(new TextEncoder().encode('146'));
    const written = transport.messages.length;
    time.advance(499);
    expect(transport.ended).toBe(false);
    time.advance(1);
    expect(transport.ended).toBe(true);
    expect(transport.messages).toHaveLength(written);
    expect(events.at(-1)).toEqual({
      type: 'refused',
      wire: 'seed',
      error: expect.objectContaining({ code: 'RTT_ERR_IDLE_TIMEOUT' }),
    });
    served.push(new TextEncoder().encode('TIME'));
    expect(transport.writesAfterEnd).toBe(0);
  });

  it('0 turns it off; the handshake timeout still applies before the keys', () => {
    const idleOff = connection({ idleTimeoutMs: 0 });
    idleOff.served.push(clientStream());
    idleOff.time.advance(2 ** 31);
    expect(idleOff.transport.ended).toBe(false);
    const silent = connection({ idleTimeoutMs: 0, handshakeTimeoutMs: 100 });
    silent.time.advance(100);
    expect(silent.transport.ended).toBe(true);
  });

  it('defaults to 5 minutes', () => {
    const { transport, time, served } = connection();
    served.push(clientStream());
    time.advance(DEFAULT_IDLE_TIMEOUT_MS - 1);
    expect(transport.ended).toBe(false);
    time.advance(1);
    expect(transport.ended).toBe(true);
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(300_000);
  });
});

describe('ServerConnection: TLS hand-off', () => {
  const TLS_RECORD = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x40);

  it('refuses a TLS ClientHello without onTlsHello: RTT_ERR_TLS_NOT_ENABLED, nothing written', () => {
    const { transport, served, events } = connection();
    served.push(TLS_RECORD);
    expect(transport.messages).toEqual([]);
    expect(transport.ended).toBe(true);
    expect(events).toEqual([
      {
        type: 'refused',
        error: expect.objectContaining({ code: 'RTT_ERR_TLS_NOT_ENABLED' }),
        wire: undefined,
      },
    ]);
  });

  it('hands the connection over, then serves only the framed wire on the new transport', () => {
    const plain = memoryTransport();
    const inside = memoryTransport();
    const time = new FakeClock();
    const events: ServerSessionEvent[] = [];
    const handedOver: Uint8Array[] = [];
    const served = new ServerConnection(plain, {
      answer: (command) => command,
      onEvent: (event) => events.push(event),
      clock: time,
      handshakeTimeoutMs: 1_000,
      onTlsHello: (firstBytes) => {
        handedOver.push(firstBytes);
        return inside;
      },
    });
    served.push(TLS_RECORD);
    expect(handedOver).toEqual([TLS_RECORD]);
    expect(served.tls).toBe(true);
    expect(served.wire).toBeUndefined();
    // The seed wire is never served inside TLS.
    served.push(new TextEncoder().encode('146'));
    expect(plain.messages).toEqual([]);
    expect(inside.ended).toBe(true);
    expect(events).toEqual([
      {
        type: 'refused',
        error: expect.objectContaining({
          code: 'RTT_ERR_UNKNOWN_WIRE',
          message: 'not our framed protocol inside TLS (first byte 0x31)',
        }),
        wire: undefined,
      },
    ]);
  });

  it('the handshake timeout runs on through the TLS handshake', () => {
    const inside = memoryTransport();
    const events: ServerSessionEvent[] = [];
    const time = new FakeClock();
    new ServerConnection(memoryTransport(), {
      answer: (command) => command,
      onEvent: (event) => events.push(event),
      clock: time,
      handshakeTimeoutMs: 1_000,
      onTlsHello: () => inside,
    }).push(TLS_RECORD);
    time.advance(1_000);
    expect(inside.ended).toBe(true);
    expect(events).toEqual([
      {
        type: 'refused',
        error: expect.objectContaining({ code: 'RTT_ERR_HANDSHAKE_TIMEOUT' }),
        wire: undefined,
      },
    ]);
  });
});
