/// <reference types="node" />
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAllSockets, socketPair } from '../../test/fixtures/sockets.ts';
import { CipherId, Command } from '../constants.ts';
import { concatFrame, encodeRequest } from '../encoder.ts';
import { FramedServerSession } from '../framed-server-session.ts';
import { encodeClientHello } from '../hello.ts';
import { StreamTransport } from './stream-transport.ts';

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

  it('sends the answers to every frame of one received chunk in one corked batch', async () => {
    const { accepted } = await socketPair();
    const transport = new StreamTransport(accepted);
    transport.attach(new FramedServerSession(transport, { answer: () => 'x' }), plainHello());
    const calls = spyWrites(accepted);
    accepted.emit(
      'data',
      Buffer.concat([1, 2, 3].map((id) => concatFrame(encodeRequest(id, Command.PING)))),
    );
    // Three answers (a PING with no payload is one part each), corked from first to last.
    expect(calls).toEqual(['cork', 'write', 'write', 'write', 'uncork']);
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
    await sleep(50);
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
    await sleep(50);
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

  it('checks its arguments', async () => {
    const { accepted } = await socketPair();
    expect(() => new StreamTransport(null as never)).toThrow(TypeError);
    expect(() => new StreamTransport(accepted, { lingerMs: -1 })).toThrow(RangeError);
    const transport = new StreamTransport(accepted);
    transport.attach({ push() {}, close() {} });
    expect(() => transport.attach({ push() {}, close() {} })).toThrow(Error);
    accepted.setEncoding('utf8');
    expect(() => new StreamTransport(accepted)).toThrow(TypeError);
  });
});
