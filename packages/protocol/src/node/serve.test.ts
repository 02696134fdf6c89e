/// <reference types="node" />
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets, socketPair } from '../../test/fixtures/sockets.ts';
import { CipherId, Command, ErrorCode } from '../constants.ts';
import { FrameDecoder } from '../decoder.ts';
import { concatFrame, encodeRequest } from '../encoder.ts';
import { encodeClientHello } from '../hello.ts';
import type { ClientInboundMessage } from '../messages.ts';
import type { ServerSessionEvent } from '../session.ts';
import { serveConnection } from './serve.ts';
import { DEFAULT_MAX_BYTES_PER_TURN } from './stream-transport.ts';

afterEach(closeAllSockets);

const ANSWERS = { TIME: '12:00:00.000001', DATE: '2026-11-25', TEMP: '21°C' } as const;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });

/** Everything a raw framed client (cipher NONE) receives until the server closes. */
function readFrames(client: Socket): Promise<ClientInboundMessage[]> {
  const messages: ClientInboundMessage[] = [];
  const decoder = new FrameDecoder({
    role: 'client',
    onMessage: (m) => messages.push('payload' in m ? { ...m, payload: m.payload.slice() } : m),
  });
  client.on('data', (chunk: Buffer) => decoder.push(chunk));
  return closed(client).then(() => messages);
}

describe('serveConnection: shutdown', () => {
  it('answers every request already read, then says SHUTTING_DOWN, and nothing after', async () => {
    const { client, accepted } = await socketPair();
    client.on('error', () => {});
    accepted.on('error', () => {});
    const received = readFrames(client);
    // 6,000 requests in one write: many turns' worth of slices for the server.
    const count = 6_000;
    const requests = Array.from({ length: count }, (_, i) =>
      concatFrame(encodeRequest(i + 1, Command.TIME)),
    );
    client.write(
      Buffer.concat([encodeClientHello({ cipher: CipherId.NONE, publicKey: 146 }), ...requests]),
    );
    await sleep(20); // let it all reach the server's socket buffer
    const closing = new AbortController();
    const events: ServerSessionEvent[] = [];
    serveConnection(accepted, {
      answer: (command) => ANSWERS[command],
      ciphers: [CipherId.NONE],
      allowPlaintext: true,
      signal: closing.signal,
      onEvent: (event) => {
        events.push(event);
        // The server starts closing on the very first request.
        if (event.type === 'request') closing.abort();
      },
    });
    const messages = await received;
    const last = messages.at(-1);
    expect(last).toMatchObject({ type: 'error', code: ErrorCode.SHUTTING_DOWN });
    const ids = messages.flatMap((m) => (m.type === 'response' ? [m.id] : []));
    // Answers to 1..k, in order, no gaps, then the goodbye: what it read, past the first slice.
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(ids.length).toBeGreaterThan(
      DEFAULT_MAX_BYTES_PER_TURN / (requests[0] as Uint8Array).length,
    );
    expect(events.filter((e) => e.type === 'request')).toHaveLength(ids.length);
  });

  it('a seed session stops reading once it has ended: no write after end, no error', async () => {
    const { client, accepted } = await socketPair();
    client.on('error', () => {});
    const errors: Error[] = [];
    accepted.on('error', (err) => errors.push(err));
    const closing = new AbortController();
    serveConnection(accepted, { answer: (command) => ANSWERS[command], signal: closing.signal });
    client.on('data', () => {});
    client.write('146');
    await sleep(10);
    closing.abort();
    // The client goes on sending commands after the server said goodbye.
    for (let i = 0; i < 20; i++) {
      if (!client.writable) break;
      client.write('TIME');
      await sleep(1);
    }
    await closed(accepted);
    expect(errors).toEqual([]);
  });
});

describe('serveConnection: timeRequests', () => {
  /** Serves one NONE-cipher client that sends TIME; resolves with `receivedAt` as the request event saw it. */
  async function receivedAtInRequest(timeRequests: boolean | undefined) {
    const { client, accepted } = await socketPair();
    client.on('error', () => {});
    accepted.on('error', () => {});
    const before = performance.now();
    const seen = new Promise<{ receivedAt: number; at: number }>((resolve) => {
      const connection = serveConnection(accepted, {
        answer: (command) => ANSWERS[command],
        ciphers: [CipherId.NONE],
        allowPlaintext: true,
        timeRequests,
        onEvent: (event) => {
          if (event.type === 'request') {
            resolve({ receivedAt: connection.receivedAt, at: performance.now() });
          }
        },
      });
    });
    client.write(
      Buffer.concat([
        encodeClientHello({ cipher: CipherId.NONE, publicKey: 146 }),
        concatFrame(encodeRequest(1, Command.TIME)),
      ]),
    );
    const result = await seen;
    client.destroy();
    return { ...result, before };
  }

  it('gives, inside a request event, when the bytes holding the request arrived', async () => {
    const { receivedAt, at, before } = await receivedAtInRequest(true);
    expect(receivedAt).toBeGreaterThanOrEqual(before);
    expect(receivedAt).toBeLessThanOrEqual(at);
  });

  it('is NaN when not asked for', async () => {
    expect((await receivedAtInRequest(undefined)).receivedAt).toBeNaN();
  });
});
