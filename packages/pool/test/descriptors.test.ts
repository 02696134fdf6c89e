import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';

const fixture = new URL('./fixtures/descriptor-server.ts', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

interface Status {
  adopted: number;
  settled: number;
  closedBy: Record<string, number>;
}

/** The fixture server under `ulimit -n <limit>`, with a way to ask for its status. */
async function startServer(limit: number) {
  const child = spawn(
    'bash',
    ['-c', `ulimit -n ${limit}; exec "$@"`, 'bash', process.execPath, fixture],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.push(child);
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  const port = await vi.waitFor(
    () => {
      const line = lines.find((l) => l.startsWith('port '));
      if (line === undefined) throw new Error('not listening yet');
      return Number(line.slice(5));
    },
    { timeout: 30_000, interval: 20 },
  );
  const status = async (): Promise<Status> => {
    const before = lines.length;
    child.stdin?.write('status\n');
    const line = await vi.waitFor(
      () => {
        const found = lines.slice(before).find((l) => l.startsWith('{'));
        if (found === undefined) throw new Error('no status yet');
        return found;
      },
      { timeout: 10_000, interval: 10 },
    );
    return JSON.parse(line) as Status;
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, port, status, lines, exited };
}

describe.skipIf(process.platform !== 'linux')(
  'out of file descriptors',
  { timeout: 90_000 },
  () => {
    it('ends every connection, those piscina queued while a thread started included, and closes at once', async () => {
      const server = await startServer(100);
      const clients: net.Socket[] = [];
      const settledClients: Promise<void>[] = [];
      for (let i = 0; i < 220; i += 1) {
        const socket = net.connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.once('connect', () => socket.write('x'));
        settledClients.push(
          new Promise((resolve) => {
            socket.once('connect', () => resolve());
            socket.once('close', () => resolve());
          }),
        );
        clients.push(socket);
        // Paced, so that threads start while connections keep arriving.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await Promise.all(settledClients);
      for (const socket of clients) socket.end();
      // Before the fix, a connection whose move piscina made later, from its queue, with no
      // descriptor left, stayed open here for ever: its adopt() never settled.
      const status = await vi.waitFor(
        async () => {
          const now = await server.status();
          if (now.settled !== now.adopted) throw new Error(`${now.settled} of ${now.adopted}`);
          return now;
        },
        { timeout: 30_000, interval: 100 },
      );
      expect(status.adopted).toBeGreaterThan(0);
      expect(status.closedBy).not.toHaveProperty('forced');
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.lines).toContain('closed');
    });
  },
);
