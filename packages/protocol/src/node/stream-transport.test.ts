/// <reference types="node" />
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAllSockets, socketPair } from '../../test/fixtures/sockets.ts';
import { CipherId, Command, Status } from '../constants.ts';
import { concatFrame, encodeRequest, encodeResponse } from '../encoder.ts';
import { FramedServerSession } from '../framed-server-session.ts';
import { encodeClientHello } from '../hello.ts';
import {
  DEFAULT_MAX_BYTES_PER_TURN,
  DEFAULT_MAX_UNSENT_BYTES,
  StreamTransport,
} from './stream-transport.ts';

afterEach(closeAllSockets);

const plainHello = () => encodeClientHello({ cipher: CipherId.NONE, publicKey: 11 ** 4 % 257 });

/** Records cork/uncork/write calls on a socket without writing anything. */
function spyWrites(socket: Socket) {
  const calls: string[] = [];
  vi.spyOn(socket, 'cork').mockImplementation(() => void calls.push('cork'));
  vi.spyOn(socket, 'uncork').mockImplementation(() => void calls.push('uncork'));
  vi.spyOn(socket, 'write').mockImplementation((() => {
    calls.push('write');
    return true;
  }) as never);
  return calls;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('StreamTransport', () => {
  it('writes the parts of one message inside one cork()/uncork(), skipping an empty payload', async () => {
    const { accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    const calls = spyWrites(accepted);
    transport.write([Uint8Array.of(1), Uint8Array.of(2)]);
    transport.write([Uint8Array.of(3), new Uint8Array(0)]);
    // A message whose payload is empty is one write, with nothing to cork.
    expect(calls).toEqual(['cork', 'write', 'write', 'uncork', 'write']);
  });

  it('sends the answers to every frame of one received chunk in one write', async () => {
    const { accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    transport.attach(new FramedServerSession(transport, { answer: () => 'x' }), plainHello());
    const calls = spyWrites(accepted);
    const written = vi.mocked(accepted.write);
    accepted.emit(
      'data',
      Buffer.concat([1, 2, 3].map((id) => concatFrame(encodeRequest(id, Command.PING)))),
    );
    // Three answers (a PING with no payload is one part each), joined into one buffer.
    expect(calls).toEqual(['write']);
    expect(Buffer.from(written.mock.calls[0]?.[0] as Uint8Array)).toEqual(
      Buffer.concat(
        [1, 2, 3].map((id) => concatFrame(encodeResponse(id, Status.OK, new Uint8Array(0)))),
      ),
    );
  });

  it('pushes first bytes read by someone else before reading on', async () => {
    const { client, accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    const pushed: number[][] = [];
    transport.attach({ push: (chunk) => pushed.push([...chunk]), close() {} }, Uint8Array.of(9));
    client.write(Uint8Array.of(8));
    await once(accepted, 'data');
    expect(pushed).toEqual([[9], [8]]);
  });

  it('tells the session when the stream closes, once', async () => {
    const { client, accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    const close = vi.fn();
    transport.attach({ push() {}, close });
    client.destroy();
    await once(accepted, 'close');
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('ends after what was written, and destroys a peer that ignores the FIN after the linger', async () => {
    const { client, accepted } = await socketPair();
    // A client that never ends its side: allowHalfOpen keeps it from answering our FIN.
    (client as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    const received: number[] = [];
    client.on('data', (chunk: Buffer) => received.push(...chunk));
    const transport = new StreamTransport(accepted, { lingerMs: 50 });
    transport.attach({ push() {}, close() {} });
    transport.write([Uint8Array.of(1, 2, 3)]);
    transport.end();
    const clientEnded = once(client, 'end');
    transport.write([Uint8Array.of(4)]);
    await once(accepted, 'close');
    await clientEnded;
    expect(received).toEqual([1, 2, 3]);
    expect(transport.ended).toBe(true);
  });

  it('stops reading a peer that sends without reading, so memory stays bounded', async () => {
    const { client, accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    transport.attach(new FramedServerSession(transport, { answer: () => 'x'.repeat(1000) }));
    // The client never reads: its receive window fills, then the server's send buffer.
    client.pause();
    client.write(plainHello());
    const request = concatFrame(encodeRequest(1, Command.TIME));
    const burst = Buffer.concat(Array.from({ length: 4096 }, () => request));
    // 50 bursts: 2 MB of requests asking for about 200 MB of answers. The client's own
    // writes queue up on its side once the server stops reading.
    for (let round = 0; round < 50; round++) {
      client.write(burst);
      await sleep(2);
    }
    // The server stops reading once its unsent answers pass the limit: wait for it.
    while (!accepted.isPaused()) await sleep(10);
    expect(accepted.isPaused()).toBe(true);
    // The server holds about one chunk's answers beyond its buffer, not the 200 MB.
    const held = accepted.writableLength + accepted.readableLength;
    expect(held).toBeLessThan(16 * 1024 * 1024);
    // And it stopped reading: most of the requests are still in the kernel's buffers.
    expect(accepted.bytesRead).toBeLessThan((50 * burst.length) / 4);
    // Once the client reads, the server drains and reads on.
    const readBefore = accepted.bytesRead;
    client.resume();
    await once(accepted, 'drain');
    // Reading starts again on a later turn of the event loop (and on a busy machine, later
    // still): wait for it rather than for a fixed time.
    while (accepted.bytesRead <= readBefore) await sleep(10);
    expect(accepted.bytesRead).toBeGreaterThan(readBefore);
  });

  it("destroys the stream with a session's own exception instead of letting it escape the listener", async () => {
    const { client, accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    transport.attach({
      push() {
        throw new Error('listener bug');
      },
      close() {},
    });
    const failed = once(accepted, 'error');
    client.write(Uint8Array.of(1));
    const [error] = await failed;
    expect((error as Error).message).toBe('listener bug');
    expect(accepted.destroyed).toBe(true);
  });

  it('does not stop reading on a full write buffer when told not to (a client)', async () => {
    const { accepted } = await socketPair();
    const transport = new StreamTransport(accepted, { pauseOnBackpressure: false });
    transport.attach({ push() {}, close() {} });
    transport.write([new Uint8Array(4 * 1024 * 1024)]);
    expect(accepted.writableNeedDrain).toBe(true);
    expect(accepted.isPaused()).toBe(false);
  });

  it('writes nothing, and throws nothing, once the stream is destroyed', async () => {
    const { accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    transport.attach({ push() {}, close() {} });
    accepted.destroy();
    const write = vi.spyOn(accepted, 'write');
    expect(() => transport.write([Uint8Array.of(1), Uint8Array.of(2)])).not.toThrow();
    expect(() => transport.end()).not.toThrow();
    expect(write).not.toHaveBeenCalled();
  });

  it('checks its arguments (options included)', async () => {
    const { accepted } = await socketPair();
    expect(() => new StreamTransport(null as never)).toThrow(TypeError);
    expect(() => new StreamTransport(accepted, { lingerMs: -1 })).toThrow(RangeError);
    const transport = new StreamTransport(accepted);
    transport.attach({ push() {}, close() {} });
    expect(() => transport.attach({ push() {}, close() {} })).toThrow(Error);
    expect(() => new StreamTransport(accepted, { maxBytesPerTurn: -1 })).toThrow(RangeError);
    expect(() => new StreamTransport(accepted, { maxUnsentBytes: 0.5 })).toThrow(RangeError);
    accepted.setEncoding('utf8');
    expect(() => new StreamTransport(accepted)).toThrow(TypeError);
  });
});

/** A session that records the size of every push and writes `answer(bytes)` for it. */
function recorder(transport: StreamTransport, answer?: (chunk: Uint8Array) => Uint8Array) {
  const pushes: number[] = [];
  transport.attach({
    push(chunk) {
      pushes.push(chunk.length);
      if (answer) transport.write([answer(chunk)]);
    },
    close() {},
  });
  return pushes;
}

/**
 * A duplex whose peer never reads: every write stays unsent (`writableLength` grows) until
 * `release()` lets them go, as a socket's do when the client's window is full.
 */
function stuckStream() {
  const callbacks: Array<(error?: Error | null) => void> = [];
  let stuck = true;
  const take = (callback: (error?: Error | null) => void) => {
    if (stuck) callbacks.push(callback);
    else process.nextTick(callback);
  };
  const stream = new Duplex({
    read() {},
    write: (_chunk, _encoding, callback) => take(callback),
    writev: (_chunks, callback) => take(callback),
  });
  /** The peer reads from now on. */
  const release = () => {
    stuck = false;
    for (const callback of callbacks.splice(0)) callback();
  };
  return { stream, release };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('StreamTransport: fairness between connections', () => {
  it('hands a big chunk over in slices of at most maxBytesPerTurn, one per turn', async () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream, { maxBytesPerTurn: 4_096 });
    const pushes = recorder(transport);
    stream.emit('data', new Uint8Array(65_536));
    // The first slice at once; the rest waits, the stream paused, for later turns.
    expect(pushes).toEqual([4_096]);
    expect(stream.isPaused()).toBe(true);
    expect(transport.pendingBytes).toBe(61_440);
    await turn();
    expect(pushes).toEqual([4_096, 4_096]);
    for (let i = 0; i < 20; i++) await turn();
    expect(pushes).toEqual(Array.from({ length: 16 }, () => 4_096));
    expect(transport.pendingBytes).toBe(0);
    expect(stream.isPaused()).toBe(false);
  });

  it('two flooding connections take turns instead of one finishing first', async () => {
    const order: string[] = [];
    for (const name of ['a', 'b']) {
      const { stream } = stuckStream();
      const transport = new StreamTransport(stream);
      transport.attach({ push: () => void order.push(name), close() {} });
      stream.emit('data', new Uint8Array(4 * DEFAULT_MAX_BYTES_PER_TURN));
    }
    for (let i = 0; i < 10; i++) await turn();
    expect(order.join('')).toBe('abababab');
  });

  it('yields after maxBytesPerTurn bytes however they are cut: small chunks add up', async () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream, { maxBytesPerTurn: 100 });
    const pushes = recorder(transport);
    for (let i = 0; i < 5; i++) stream.emit('data', new Uint8Array(40));
    // 40 + 40 + 20 in the first turn (the third chunk cut), then the rest later.
    expect(pushes).toEqual([40, 40, 20]);
    for (let i = 0; i < 5; i++) await turn();
    expect(pushes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.max(...pushes)).toBeLessThanOrEqual(100);
  });

  it('0 means no limit (a client): a chunk goes over whole', () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream, { maxBytesPerTurn: 0 });
    const pushes = recorder(transport);
    stream.emit('data', new Uint8Array(1_000_000));
    expect(pushes).toEqual([1_000_000]);
  });

  it('a slice whose answers are many writes leaves in one write', () => {
    const { stream } = stuckStream();
    const write = vi.spyOn(stream, 'write');
    const transport = new StreamTransport(stream);
    transport.attach({
      push(chunk) {
        for (const byte of chunk) transport.write([Uint8Array.of(byte), Uint8Array.of(byte)]);
      },
      close() {},
    });
    stream.emit('data', Uint8Array.of(1, 2, 3));
    expect(write).toHaveBeenCalledTimes(1);
    expect([...((write.mock.calls[0]?.[0] ?? []) as Uint8Array)]).toEqual([1, 1, 2, 2, 3, 3]);
  });
});

describe('StreamTransport: slicing changes nothing but the pace', () => {
  /** What a framed server writes for `input`, handed over `maxBytesPerTurn` at a time. */
  async function served(input: Uint8Array, maxBytesPerTurn: number, cuts: readonly number[]) {
    const { stream } = stuckStream();
    const written: number[] = [];
    vi.spyOn(stream, 'write').mockImplementation(((chunk: Uint8Array) => {
      written.push(...chunk);
      return true;
    }) as never);
    const transport = new StreamTransport(stream, { maxBytesPerTurn });
    transport.attach(new FramedServerSession(transport, { answer: (command) => command }));
    let start = 0;
    for (const end of [...cuts, input.length]) {
      stream.emit('data', input.slice(start, end));
      start = end;
    }
    while (transport.pendingBytes > 0) await turn();
    // After the ServerHello, whose public key is random.
    return written.slice(8);
  }

  it('any slice size and any cutting give the same answers, in the same order', async () => {
    const requests = Array.from({ length: 40 }, (_, i) =>
      // TIME, DATE, TEMP, PING with a payload of some length, an unknown command (no CLOCK:
      // its answer changes with time).
      concatFrame(encodeRequest(i + 1, [1, 2, 3, 4, 9][i % 5] as number, 'x'.repeat(i * 7))),
    );
    const input = Buffer.concat([plainHello(), ...requests]);
    const whole = await served(input, 0, []);
    expect(whole.length).toBeGreaterThan(40 * 10);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 }),
        fc.uniqueArray(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 8 }),
        async (perTurn, cuts) => {
          const sorted = [...cuts].sort((a, b) => a - b);
          expect(await served(input, perTurn, sorted)).toEqual(whole);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('StreamTransport: the output limit', () => {
  it('stops handing bytes over while more than maxUnsentBytes wait to be sent', async () => {
    const { stream, release } = stuckStream();
    const transport = new StreamTransport(stream, {
      maxBytesPerTurn: 4_096,
      maxUnsentBytes: 64 * 1024,
    });
    // Each slice asks for four times its size in answers.
    const pushes = recorder(transport, (chunk) => new Uint8Array(chunk.length * 4));
    stream.emit('data', new Uint8Array(1024 * 1024));
    for (let i = 0; i < 100; i++) await turn();
    // Over the limit after 5 slices (80 KiB unsent): no slice more until it drains.
    expect(pushes).toHaveLength(5);
    expect(stream.writableLength).toBeLessThanOrEqual(64 * 1024 + 4 * 4_096);
    expect(stream.isPaused()).toBe(true);
    expect(transport.pendingBytes).toBe(1024 * 1024 - 5 * 4_096);
    release();
    for (let i = 0; i < 3; i++) await turn();
    expect(pushes.length).toBeGreaterThan(5);
    expect(stream.writableLength).toBeLessThanOrEqual(64 * 1024 + 4 * 4_096);
  });

  it('a client that never reads costs at most the limit plus one slice of answers', async () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream);
    // Seed-sized answers (16 bytes per 4-byte command): four times the bytes of each slice.
    recorder(transport, (chunk) => new Uint8Array(chunk.length * 4));
    for (let i = 0; i < 64; i++) stream.emit('data', new Uint8Array(65_536));
    for (let i = 0; i < 200; i++) await turn();
    expect(stream.writableLength).toBeGreaterThan(DEFAULT_MAX_UNSENT_BYTES);
    expect(stream.writableLength).toBeLessThanOrEqual(
      DEFAULT_MAX_UNSENT_BYTES + 4 * DEFAULT_MAX_BYTES_PER_TURN,
    );
    // And the answers are a handful of buffers, one per slice, not one object per answer.
    expect(
      (stream as unknown as { writableBuffer: unknown[] }).writableBuffer.length,
    ).toBeLessThanOrEqual(DEFAULT_MAX_UNSENT_BYTES / (4 * DEFAULT_MAX_BYTES_PER_TURN) + 1);
  });

  it('does not stop reading when told not to (a client)', async () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream, {
      pauseOnBackpressure: false,
      maxUnsentBytes: 1_024,
      maxBytesPerTurn: 4_096,
    });
    const pushes = recorder(transport, (chunk) => new Uint8Array(chunk.length));
    stream.emit('data', new Uint8Array(65_536));
    for (let i = 0; i < 30; i++) await turn();
    expect(pushes).toHaveLength(16);
  });
});

describe('StreamTransport: endings', () => {
  it('stopReading(): what was read is handed over first, then the callback, then nothing', async () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream, { maxBytesPerTurn: 4_096 });
    const pushes = recorder(transport);
    stream.emit('data', new Uint8Array(10_000));
    let handed = -1;
    transport.stopReading(() => {
      handed = pushes.reduce((a, b) => a + b, 0);
    });
    expect(handed).toBe(-1);
    for (let i = 0; i < 5; i++) await turn();
    expect(handed).toBe(10_000);
    stream.emit('data', new Uint8Array(100));
    await turn();
    expect(pushes.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(stream.isPaused()).toBe(true);
  });

  it('stopReading() from inside a slice (a listener) calls back once that slice is done', () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream);
    const order: string[] = [];
    transport.attach({
      push(chunk) {
        order.push(`push ${chunk.length}`);
        transport.stopReading(() => order.push('stopped'));
        order.push('push done');
      },
      close() {},
    });
    stream.emit('data', new Uint8Array(10));
    expect(order).toEqual(['push 10', 'push done', 'stopped']);
  });

  it('stopReading() with nothing pending calls back at once', () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream);
    recorder(transport);
    const callback = vi.fn();
    transport.stopReading(callback);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('after end(), nothing read reaches the session, and what was pending is dropped', async () => {
    const { stream } = stuckStream();
    const transport = new StreamTransport(stream, { maxBytesPerTurn: 4_096 });
    const pushes = recorder(transport);
    stream.emit('data', new Uint8Array(10_000));
    transport.end();
    stream.emit('data', new Uint8Array(10));
    for (let i = 0; i < 5; i++) await turn();
    expect(pushes).toEqual([4_096]);
    expect(transport.pendingBytes).toBe(0);
    // Still read (flowing), so that the peer's end is seen.
    expect(stream.isPaused()).toBe(false);
  });

  it('answers written before end() in the same slice go out before the FIN', () => {
    const { stream } = stuckStream();
    const write = vi.spyOn(stream, 'write');
    const end = vi.spyOn(stream, 'end');
    const transport = new StreamTransport(stream);
    transport.attach({
      push() {
        transport.write([Uint8Array.of(1)]);
        transport.write([Uint8Array.of(2)]);
        transport.end();
        transport.write([Uint8Array.of(3)]);
      },
      close() {},
    });
    stream.emit('data', Uint8Array.of(0));
    expect(write).toHaveBeenCalledTimes(1);
    expect([...((write.mock.calls[0]?.[0] ?? []) as Uint8Array)]).toEqual([1, 2]);
    expect(end).toHaveBeenCalledTimes(1);
    expect(write.mock.invocationCallOrder[0]).toBeLessThan(end.mock.invocationCallOrder[0] ?? 0);
  });
});
