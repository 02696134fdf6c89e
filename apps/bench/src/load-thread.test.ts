import net from 'node:net';
import { FramedServerSession, type SessionTransport } from '@rtt/protocol';
import { StreamTransport } from '@rtt/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import { startBaselineServer } from './baseline-server.ts';
import { inBatches, LoadThread, type LoadThreadOptions } from './load-thread.ts';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

// Closes a server and every connection it still has.
function closeServer(server: net.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.emit('close-connections');
  });
}

function tracked(server: net.Server): net.Server {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.once('close-connections', () => {
    for (const socket of sockets) socket.destroy();
  });
  return server;
}

async function listen(server: net.Server): Promise<number> {
  servers.push(tracked(server));
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A server that does the hello, then answers `answers` requests per connection and nothing more. */
function stingyServer(answers: number, thenClose: boolean): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => {});
    const transport = new StreamTransport(socket);
    let ready = false;
    let served = 0;
    // Passes the hello (however many rounds it takes) and the first `answers` answers through.
    const stingy: SessionTransport = {
      write(parts) {
        if (!ready) transport.write(parts);
        else if (served < answers) {
          served += 1;
          transport.write(parts);
        } else if (thenClose) socket.destroy();
      },
      end: () => transport.end(),
    };
    const session = new FramedServerSession(stingy, {
      answer: () => 'ok',
      onEvent: (event) => {
        if (event.type === 'ready') ready = true;
      },
    });
    transport.attach(session);
  });
}

const options = (port: number, extra: Partial<LoadThreadOptions> = {}): LoadThreadOptions => ({
  ip: '127.0.0.1',
  port,
  connections: 3,
  pipeline: 4,
  command: 'PING',
  wire: 'framed',
  connectBatch: 2,
  timeoutMs: 5_000,
  tls: false,
  ...extra,
});

describe('LoadThread', () => {
  it('sends exactly the requests asked for, pipelined, and records every answer', async () => {
    const server = await startBaselineServer({ host: '127.0.0.1', port: 0 });
    servers.push(tracked(server));
    const port = (server.address() as net.AddressInfo).port;
    const thread = new LoadThread(options(port));
    await thread.connect();
    expect(thread.alive).toBe(3);
    const warm = await thread.run({ requests: 50 });
    expect(warm.completed).toBe(50);
    thread.resetStats();
    const stats = await thread.run({ requests: 301 });
    thread.close();
    expect(stats).toMatchObject({ completed: 301, errors: 0, failures: {} });
    expect(thread.histogram.totalCount).toBe(301);
    expect(stats.elapsedMs).toBeGreaterThan(0);
  });

  it('runs for a duration when asked, then stops', async () => {
    const server = await startBaselineServer({ host: '127.0.0.1', port: 0 });
    servers.push(tracked(server));
    const thread = new LoadThread(options((server.address() as net.AddressInfo).port));
    await thread.connect();
    const stats = await thread.run({ requests: 0, durationMs: 150 });
    thread.close();
    expect(stats.completed).toBeGreaterThan(0);
    expect(stats.errors).toBe(0);
  });

  it('counts the requests of a connection the server drops as errors', async () => {
    const port = await listen(stingyServer(5, true));
    const thread = new LoadThread(options(port, { connections: 2, pipeline: 1 }));
    await thread.connect();
    const stats = await thread.run({ requests: 100 });
    thread.close();
    expect(stats.completed).toBe(10);
    expect(stats.errors).toBe(2);
    expect(stats.failures).toEqual({ RTT_ERR_SERVER_GONE: 2 });
  });

  it('gives up on answers that never come', async () => {
    const port = await listen(stingyServer(0, false));
    const thread = new LoadThread(options(port, { connections: 2, pipeline: 3, timeoutMs: 200 }));
    await thread.connect();
    const stats = await thread.run({ requests: 100 });
    thread.close();
    expect(stats.completed).toBe(0);
    expect(stats.errors).toBe(6);
    expect(stats.failures).toEqual({ RTT_ERR_TIMEOUT: 2 });
  });

  it('fails to connect with one clear error when nothing listens', async () => {
    const port = await listen(net.createServer());
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const thread = new LoadThread(options(port));
    await expect(thread.connect()).rejects.toMatchObject({ code: 'RTT_ERR_CONNECT' });
  });
});

describe('inBatches', () => {
  it('keeps at most `limit` tasks running and returns results in order', async () => {
    let running = 0;
    let most = 0;
    const results = await inBatches(10, 3, async (i) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      return i * 2;
    });
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(most).toBe(3);
  });
});
