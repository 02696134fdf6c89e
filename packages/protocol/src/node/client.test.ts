/// <reference types="node" />
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets, listen } from '../../test/fixtures/sockets.ts';
import { CipherId, ErrorCode, Status } from '../constants.ts';
import { concatFrame, encodeResponse } from '../encoder.ts';
import { connect } from './client.ts';
import { serveConnection } from './serve.ts';

afterEach(closeAllSockets);

const ANSWERS = { TIME: '12:00:00.000001', DATE: '2026-11-25', TEMP: '21°C (simulated)' } as const;

/** A real server on 127.0.0.1 that serves both wires through the library. */
async function server(
  options: { handshakeTimeoutMs?: number; idleTimeoutMs?: number; signal?: AbortSignal } = {},
) {
  return listen(
    (socket) => {
      socket.on('error', () => {});
      serveConnection(socket, { answer: (command) => ANSWERS[command], ...options });
    },
    { pauseOnConnect: true },
  );
}

describe('connect() and serveConnection()', () => {
  it.each(['framed', 'seed'] as const)(
    'answer TIME, DATE and TEMP over the %s wire',
    async (wire) => {
      const { port } = await server();
      const client = await connect({ port, wire });
      expect(client.wire).toBe(wire);
      expect(client.key).toBeGreaterThanOrEqual(0);
      for (const command of ['TIME', 'DATE', 'TEMP'] as const) {
        const reply = await client.request(command);
        expect(reply).toMatchObject({ status: Status.OK, ok: true, text: ANSWERS[command] });
        expect(reply.rttMs).toBeGreaterThan(0);
      }
      await client.close();
    },
  );

  it('keeps many framed requests in flight and matches each answer to its request', async () => {
    const { port } = await server();
    const client = await connect({ port });
    const payloads = Array.from({ length: 200 }, (_, i) => `ping ${i}`);
    const replies = await Promise.all(payloads.map((p) => client.request('PING', p)));
    expect(replies.map((r) => r.text)).toEqual(payloads);
    expect(client.inFlight).toBe(0);
    await client.close();
  });

  it('queues seed-wire requests one after another (the seed wire has no ids)', async () => {
    const { port } = await server();
    const client = await connect({ port, wire: 'seed' });
    const replies = await Promise.all(
      ['TEMP', 'DATE', 'TIME'].map((c) => client.request(c as 'TIME')),
    );
    expect(replies.map((r) => r.text)).toEqual([ANSWERS.TEMP, ANSWERS.DATE, ANSWERS.TIME]);
    await expect(client.request('PING')).rejects.toMatchObject({
      code: 'RTT_ERR_UNSUPPORTED_COMMAND',
    });
    await client.close();
  });

  it('answers an unknown command code with UNKNOWN_COMMAND, as a reply not an error', async () => {
    const { port } = await server();
    const client = await connect({ port });
    expect(await client.request(9)).toMatchObject({
      status: Status.UNKNOWN_COMMAND,
      ok: false,
      text: 'unknown command 9',
    });
    await client.close();
  });

  it('close() rejects what is in flight and later requests with RTT_ERR_CLOSED; lost stays quiet', async () => {
    const { port } = await server();
    const client = await connect({ port });
    const pending = client.request('TIME').catch((error: unknown) => error);
    await client.close();
    expect(await pending).toMatchObject({ code: 'RTT_ERR_CLOSED' });
    await expect(client.request('DATE')).rejects.toMatchObject({ code: 'RTT_ERR_CLOSED' });
    const settled = await Promise.race([
      client.lost.then(() => 'lost'),
      sleep(50).then(() => 'quiet'),
    ]);
    expect(settled).toBe('quiet');
  });

  it('tells a framed client the server is closing (SHUTTING_DOWN), through lost', async () => {
    const closing = new AbortController();
    const { port } = await server({ signal: closing.signal });
    const client = await connect({ port });
    closing.abort();
    const error = await client.lost;
    expect(error).toMatchObject({
      code: 'RTT_ERR_SERVER_ERROR',
      message: 'the server ended the session: server closing',
    });
    await expect(client.request('TIME')).rejects.toBe(error);
  });

  it('on SHUTTING_DOWN fails only the requests still waiting; answered ones stay answered', async () => {
    const closing = new AbortController();
    const { port } = await listen(
      (socket) => {
        socket.on('error', () => {});
        serveConnection(socket, {
          answer: (command) => ANSWERS[command],
          signal: closing.signal,
          onEvent: (event) => {
            if (event.type === 'request') closing.abort();
          },
        });
      },
      { pauseOnConnect: true },
    );
    const client = await connect({ port });
    // Five requests in one write: the server starts closing on the first, but answers all
    // five it read before it says goodbye.
    client.stream.cork();
    const first = ['TIME', 'DATE', 'TEMP', 'TIME', 'DATE'].map((c) => client.request(c as 'TIME'));
    client.stream.uncork();
    await first[0];
    // Sent once the server has stopped reading: never processed, failed with the goodbye.
    const later = [client.request('TIME'), client.request('TEMP')];
    for (const request of later) request.catch(() => {});
    const replies = await Promise.allSettled(first);
    expect(replies.map((r) => r.status === 'fulfilled' && r.value.text)).toEqual([
      ANSWERS.TIME,
      ANSWERS.DATE,
      ANSWERS.TEMP,
      ANSWERS.TIME,
      ANSWERS.DATE,
    ]);
    for (const result of await Promise.allSettled(later)) {
      expect(result).toMatchObject({
        status: 'rejected',
        reason: { code: 'RTT_ERR_SERVER_ERROR', wireCode: ErrorCode.SHUTTING_DOWN },
      });
    }
    expect(await client.lost).toMatchObject({ wireCode: ErrorCode.SHUTTING_DOWN });
  });

  it.each([
    ['framed', 'the server closed the connection after it sat idle (idle for 0.05 s)'],
    ['seed', 'the server closed the connection'],
  ] as const)(
    'reports an idle timeout on the %s wire as the server gone',
    async (wire, message) => {
      const { port } = await server({ idleTimeoutMs: 50 });
      const client = await connect({ port, wire });
      expect((await client.request('DATE')).text).toBe(ANSWERS.DATE);
      expect(await client.lost).toMatchObject({ code: 'RTT_ERR_SERVER_GONE', message });
    },
  );

  it('reports a server that goes away as RTT_ERR_SERVER_GONE', async () => {
    const { port } = await listen((socket) => socket.destroy());
    await expect(connect({ port })).rejects.toMatchObject({ code: 'RTT_ERR_SERVER_GONE' });
  });

  it('fails with RTT_ERR_CONNECT and a readable reason when nobody listens', async () => {
    const { server: probe, port } = await listen(() => {});
    await new Promise((resolve) => probe.close(resolve));
    await expect(connect({ port })).rejects.toMatchObject({
      code: 'RTT_ERR_CONNECT',
      message: `cannot connect to 127.0.0.1 port ${port}: connection refused (is the server running?)`,
    });
  });

  it('gives up with RTT_ERR_TIMEOUT on a server that never answers the hello', async () => {
    const { port } = await listen(() => {});
    const started = performance.now();
    await expect(connect({ port, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'RTT_ERR_TIMEOUT',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('keeps reading answers while its own requests back up (no deadlock with a busy server)', async () => {
    const { port } = await server();
    const client = await connect({ port });
    // 600 PINGs of 60 KB: 36 MB each way, far past both sides' socket buffers.
    const payload = new Uint8Array(60_000).fill(0x61);
    const replies = await Promise.all(
      Array.from({ length: 600 }, () => client.request('PING', payload)),
    );
    expect(replies.every((reply) => reply.ok && reply.text.length === 60_000)).toBe(true);
    await client.close();
  });

  it('rejects what is in flight with RTT_ERR_SERVER_GONE when the server goes away mid-request', async () => {
    const { port } = await listen(
      (socket) => {
        socket.on('error', () => {});
        // Agrees keys, then drops the connection at the first request.
        serveConnection(socket, {
          answer: () => {
            socket.destroy();
            return 'never sent';
          },
        });
      },
      { pauseOnConnect: true },
    );
    const client = await connect({ port });
    await expect(client.request('TIME')).rejects.toMatchObject({ code: 'RTT_ERR_SERVER_GONE' });
    expect(await client.lost).toMatchObject({ code: 'RTT_ERR_SERVER_GONE' });
  });

  it('sends queued seed-wire requests in order when a callback sends again', async () => {
    const { port } = await server();
    const client = await connect({ port, wire: 'seed' });
    const texts: string[] = [];
    await new Promise<void>((resolve) => {
      const record =
        (then?: () => void) => (error: unknown, _status: number, payload: Uint8Array) => {
          expect(error).toBeNull();
          texts.push(new TextDecoder().decode(payload));
          then?.();
        };
      client.send(
        'TIME',
        undefined,
        record(() => client.send('TEMP', undefined, record(resolve))),
      );
      client.send('DATE', undefined, record());
    });
    expect(texts).toEqual([ANSWERS.TIME, ANSWERS.DATE, ANSWERS.TEMP]);
    await client.close();
  });

  it('fails with RTT_ERR_UNEXPECTED_ID when the server answers a request never sent', async () => {
    const { port } = await listen(
      (socket) => {
        socket.on('error', () => {});
        serveConnection(socket, {
          answer: () => 'x',
          ciphers: [CipherId.NONE],
          allowPlaintext: true,
          onEvent: (event) => {
            // In clear (cipher NONE): an answer to request 999 nobody asked for, after the
            // ServerHello (written once the hello's slice is handled).
            if (event.type === 'ready')
              setImmediate(() => socket.write(concatFrame(encodeResponse(999, Status.OK, 'x'))));
          },
        });
      },
      { pauseOnConnect: true },
    );
    const client = await connect({ port, cipher: CipherId.NONE });
    expect(await client.lost).toMatchObject({ code: 'RTT_ERR_UNEXPECTED_ID' });
  });

  it('checks its options without leaking the socket it opened', async () => {
    let accepted: import('node:net').Socket | undefined;
    const { port } = await listen((socket) => {
      accepted = socket;
    });
    await expect(connect({ port, maxFrameSize: 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(connect({ port, wire: 'tls' as never })).rejects.toBeInstanceOf(TypeError);
    // The server hears the client's close on a later turn (later still on a busy machine).
    while (!(accepted?.destroyed || accepted?.readableEnded)) await sleep(10);
    expect(accepted?.destroyed || accepted?.readableEnded).toBe(true);
  });

  it("reads the server's clock and its offset from ours, NTP-style (CLOCK)", async () => {
    const { port } = await server();
    const client = await connect({ port });
    const before = Date.now() * 1000;
    const reading = await client.clock();
    expect(reading.serverMicros).toBeGreaterThanOrEqual(before - 1_000_000);
    // Server and client share this process's clock: the true offset is 0, and the estimate
    // is within half the round trip of it (a microsecond of rounding aside).
    expect(Math.abs(reading.offsetMs)).toBeLessThanOrEqual(reading.rttMs / 2 + 0.002);
    await client.close();
    const seed = await connect({ port, wire: 'seed' });
    await expect(seed.clock()).rejects.toMatchObject({ code: 'RTT_ERR_UNSUPPORTED_COMMAND' });
    await seed.close();
  });

  it('warms up with a request of its own when asked, so the first measured one is not cold', async () => {
    let answered = 0;
    const { port } = await listen(
      (socket) => {
        socket.on('error', () => {});
        serveConnection(socket, {
          answer: (command) => {
            answered += 1;
            return ANSWERS[command];
          },
        });
      },
      { pauseOnConnect: true },
    );
    const client = await connect({ port, warmUp: true });
    // Three TIMEs (with three CLOCKs, which the session answers itself).
    expect(answered).toBe(3);
    expect((await client.request('DATE')).text).toBe(ANSWERS.DATE);
    await client.close();
  });

  it('takes an already connected stream', async () => {
    const { port } = await server();
    const { connect: tcp } = await import('node:net');
    const socket = tcp(port, '127.0.0.1');
    await once(socket, 'connect');
    const client = await connect({ stream: socket });
    expect((await client.request('DATE')).text).toBe(ANSWERS.DATE);
    await client.close();
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
