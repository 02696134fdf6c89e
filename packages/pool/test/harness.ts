import net from 'node:net';
import type { ConnectionPool, SessionSummary } from '../src/index.ts';

/** A server on 127.0.0.1 (OS-chosen port) that hands every connection to `pool`. */
export async function servePool<C>(
  pool: ConnectionPool<C>,
  context: (index: number) => C,
): Promise<{ port: number; summaries: Promise<SessionSummary>[]; close: () => Promise<void> }> {
  const summaries: Promise<SessionSummary>[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const summary = pool.adopt(socket, context(summaries.length));
    // Tests assert on rejections later; mark them handled now.
    summary.catch(() => {});
    summaries.push(summary);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    summaries,
    // Adopted sockets belong to the pool; the listener just stops accepting.
    close: async () => {
      server.close();
    },
  };
}

/** A client that collects what it receives. */
export async function connect(port: number): Promise<{
  socket: net.Socket;
  next: () => Promise<string>;
  closed: Promise<void>;
}> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: string[] = [];
  const waiters: ((text: string) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    const waiter = waiters.shift();
    if (waiter) waiter(chunk.toString());
    else chunks.push(chunk.toString());
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    closed,
    next: () =>
      new Promise((resolve) => {
        const ready = chunks.shift();
        if (ready !== undefined) resolve(ready);
        else waiters.push(resolve);
      }),
  };
}
