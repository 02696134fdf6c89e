import net, { type AddressInfo, type Socket } from 'node:net';
import { Piscina } from 'piscina';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  type ConnectionPool,
  createPool,
  NoTaskModuleError,
  PoolClosedError,
  type SessionControl,
  type SessionSummary,
  TaskFailedError,
} from '../src/index.ts';
import { HOLD_MESSAGE, SESSION_MESSAGE } from '../src/messages.ts';
import { SessionRegistry, serveSession } from '../src/serve.ts';
import type { EchoContext } from './fixtures/echo-session.ts';
import { connect, servePool } from './harness.ts';

const session = new URL('./fixtures/echo-session.ts', import.meta.url);
const task = new URL('./fixtures/square-task.ts', import.meta.url);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(
  options: Parameters<typeof createPool>[0] = {},
): ConnectionPool<EchoContext, number, number> {
  const created = createPool<EchoContext, number, number>({ session, task, ...options });
  cleanups.push(() => created.close({ timeout: 200 }));
  return created;
}

async function served(
  p: ConnectionPool<EchoContext>,
  context: (i: number) => EchoContext = () => ({}),
) {
  const server = await servePool(p, context);
  cleanups.push(server.close);
  return server;
}

describe('adopt', () => {
  it('serves a connection in a worker thread and summarises it when it closes', async () => {
    const p = pool({ threads: 2 });
    const server = await served(p);
    const client = await connect(server.port);
    client.socket.write('hello');
    const echoed = await client.next();
    expect(echoed).toMatch(/^\d+:hello$/);
    expect(Number(echoed.split(':')[0])).toBeGreaterThan(0); // not the main thread
    client.socket.end();
    const summary = await server.summaries[0];
    expect(summary).toMatchObject({
      requests: 1,
      bytesIn: 5,
      closedBy: 'peer',
      data: { last: 'hello' },
    });
    expect(summary?.bytesOut).toBe(echoed.length);
    expect(summary?.threadId).toBe(Number(echoed.split(':')[0]));
  });

  it('summarises a connection that ends at once and one held past the thread letting go of its task', async () => {
    // A young connection's summary comes back as its task's result, a held one's in the
    // thread's batched reports once its task has been let go (200 to 400 ms): the same either way.
    const p = pool({ threads: 1 });
    const server = await served(p, () => ({ mode: 'no-data' }));
    const short = await connect(server.port);
    const held = await connect(server.port);
    for (const client of [short, held]) client.socket.write('ab');
    const [shortEcho, heldEcho] = await Promise.all([short.next(), held.next()]);
    short.socket.end();
    await new Promise((resolve) => setTimeout(resolve, 500));
    held.socket.write('cde');
    await held.next();
    held.socket.end();
    const [shortSummary, heldSummary] = await Promise.all(server.summaries);
    const thread = Number(shortEcho.split(':')[0]);
    expect(shortSummary).toMatchObject({
      requests: 1,
      bytesIn: 2,
      closedBy: 'peer',
      threadId: thread,
    });
    expect(shortSummary?.bytesOut).toBe(shortEcho.length);
    expect(heldSummary).toMatchObject({
      requests: 2,
      bytesIn: 5,
      closedBy: 'peer',
      threadId: thread,
    });
    expect(heldSummary?.durationMs).toBeGreaterThan(400);
    expect(heldEcho).toBe(`${thread}:ab`);
    expect(shortSummary).not.toHaveProperty('data');
    expect(p.stats).toMatchObject({ connections: 0, completed: 2 });
  });

  it('serves many connections at once, on no more threads than the cores', async () => {
    const p = pool({ threads: 32, activeThreads: 2 });
    const server = await served(p);
    const clients = await Promise.all(Array.from({ length: 60 }, () => connect(server.port)));
    const answers = await Promise.all(
      clients.map((client, i) => {
        client.socket.write(`c${i}`);
        return client.next();
      }),
    );
    for (const [i, answer] of answers.entries()) expect(answer).toMatch(new RegExp(`^\\d+:c${i}$`));
    expect(p.stats.connections).toBe(60);
    expect(p.stats.threads).toBe(2);
    expect(new Set(answers.map((a) => a.split(':')[0])).size).toBe(2);
    for (const client of clients) client.socket.end();
    const summaries = await Promise.all(server.summaries);
    expect(summaries.every((s) => s.closedBy === 'peer')).toBe(true);
    expect(p.stats.connections).toBe(0);
  });

  it('starts one more thread at a time only when every thread is full, up to `threads`', async () => {
    const p = pool({ threads: 3, activeThreads: 1, connectionsPerThread: 2 });
    const server = await served(p);
    const clients = [];
    for (let i = 0; i < 7; i += 1) {
      const client = await connect(server.port);
      client.socket.write('x');
      await client.next();
      clients.push(client);
    }
    // Seven connections on 3 threads of 2: the last one overfills a thread instead of waiting.
    expect(p.stats.threads).toBe(3);
    expect(p.stats.waiting).toBe(0);
    for (const client of clients) client.socket.end();
    await Promise.all(server.summaries);
  });

  it('serves connections that arrive together while a thread starts: none is left waiting', async () => {
    const p = pool({ threads: 2, activeThreads: 1, connectionsPerThread: 1 });
    const server = await served(p);
    // All at once: the second waits in piscina's queue for the new thread, the third in the
    // pool's own backlog behind it, and must be released when the second is placed.
    const clients = await Promise.all([1, 2, 3].map(() => connect(server.port)));
    const answers = await Promise.all(
      clients.map((client, i) => {
        client.socket.write(`burst${i}`);
        return client.next();
      }),
    );
    for (const [i, answer] of answers.entries()) expect(answer).toMatch(new RegExp(`:burst${i}$`));
    expect(p.stats).toMatchObject({ threads: 2, connections: 3, waiting: 0 });
    for (const client of clients) client.socket.end();
    await Promise.all(server.summaries);
  });

  it('closes only the connection whose handler throws', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, (i) => ({ mode: i === 0 ? 'throw' : 'echo' }));
    const bad = await connect(server.port);
    await bad.closed;
    expect(await server.summaries[0]).toMatchObject({ closedBy: 'handler-error' });
    const good = await connect(server.port);
    good.socket.write('still here');
    expect(await good.next()).toMatch(/still here$/);
    good.socket.end();
    await server.summaries[1];
  });

  it('closes only the connection whose handler rejects', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, (i) => ({ mode: i === 0 ? 'reject' : 'echo' }));
    const bad = await connect(server.port);
    await bad.closed;
    expect((await server.summaries[0])?.error).toContain('rejected on purpose');
    const good = await connect(server.port);
    good.socket.write('ok');
    expect(await good.next()).toMatch(/ok$/);
    good.socket.end();
  });

  it('ends every connection of a thread that dies, each with worker-exit', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, (i) => ({ mode: i === 2 ? 'die-on-data' : 'echo' }));
    const clients = [];
    for (let i = 0; i < 3; i += 1) {
      const client = await connect(server.port);
      client.socket.write(`c${i}`);
      if (i < 2) await client.next();
      clients.push(client);
    }
    const summaries = await Promise.all(server.summaries);
    expect(summaries.map((s) => s.closedBy)).toEqual(['worker-exit', 'worker-exit', 'worker-exit']);
    expect(summaries[0]?.error).toContain('3');
    expect(p.stats.connections).toBe(0);
    await Promise.all(clients.map((client) => client.closed));
  });

  it('keeps a thread that holds connections past idleTimeout, and ends it once idle', async () => {
    const p = pool({ threads: 2, activeThreads: 1, connectionsPerThread: 1, idleTimeout: 30 });
    const server = await served(p);
    const clients = [];
    for (let i = 0; i < 4; i += 1) {
      const client = await connect(server.port);
      client.socket.write(`c${i}`);
      await client.next();
      clients.push(client);
    }
    expect(p.stats.threads).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Both threads still serve every connection: none was ended for looking idle to piscina.
    expect(p.stats.threads).toBe(2);
    for (const [i, client] of clients.entries()) {
      client.socket.write(`again${i}`);
      expect(await client.next()).toMatch(new RegExp(`:again${i}$`));
    }
    for (const client of clients) client.socket.end();
    expect((await Promise.all(server.summaries)).every((s) => s.closedBy === 'peer')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(p.stats.threads).toBe(1);
  });

  it("sends connections down a thread's lane, not as a piscina task each", async () => {
    const p = pool({ threads: 1 });
    const server = await served(p);
    const runs = vi.spyOn(Piscina.prototype, 'run');
    try {
      for (let i = 0; i < 10; i += 1) {
        const client = await connect(server.port);
        client.socket.write(`c${i}`);
        expect(await client.next()).toMatch(new RegExp(`:c${i}$`));
        client.socket.end();
        expect(await server.summaries[i]).toMatchObject({ requests: 1, closedBy: 'peer' });
      }
      // The first connection may go as a task (the thread's lane not known yet), then one
      // hold keeps the thread while connections come down its lane.
      expect(runs.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      runs.mockRestore();
    }
    expect(p.stats).toMatchObject({ connections: 0, completed: 10, dropped: 0 });
  });

  it('keeps a thread serving only lane connections past idleTimeout, and ends it once idle', async () => {
    // The second thread starts for a connection (its task), which ends; the next connection
    // goes to that idle thread down its lane, with only the pool's hold to keep piscina from
    // ending the thread.
    const p = pool({ threads: 2, activeThreads: 1, connectionsPerThread: 1, idleTimeout: 300 });
    const server = await served(p);
    const first = await connect(server.port);
    first.socket.write('a');
    const firstThread = (await first.next()).split(':')[0];
    const starter = await connect(server.port);
    starter.socket.write('b');
    expect((await starter.next()).split(':')[0]).not.toBe(firstThread);
    starter.socket.end();
    await server.summaries[1];
    // Until the second thread's task has been answered it still looks busy, and a connection
    // goes to the first thread instead: try again until one reaches the other thread.
    let laned = await connect(server.port);
    laned.socket.write('c');
    let lanedThread = (await laned.next()).split(':')[0];
    for (let tries = 0; lanedThread === firstThread && tries < 50; tries += 1) {
      laned.socket.end();
      await server.summaries.at(-1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      laned = await connect(server.port);
      laned.socket.write('c');
      lanedThread = (await laned.next()).split(':')[0];
    }
    expect(lanedThread).not.toBe(firstThread);
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(p.stats.threads).toBe(2);
    laned.socket.write('d');
    expect(await laned.next()).toBe(`${lanedThread}:d`);
    for (const client of [first, laned]) client.socket.end();
    const summaries = await Promise.all(server.summaries);
    expect(summaries.every((summary) => summary.closedBy === 'peer')).toBe(true);
    expect(summaries.at(-1)).toMatchObject({ requests: 2, threadId: Number(lanedThread) });
    await vi.waitFor(() => expect(p.stats.threads).toBe(1), { timeout: 5_000, interval: 50 });
  });

  it('holds a thread again after letting it go, and ends lane connections on close()', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, (i) => (i === 3 ? { mode: 'stubborn' } : {}));
    const runs = vi.spyOn(Piscina.prototype, 'run');
    const calls = (kind: number) =>
      runs.mock.calls
        .map((call, i) => ({
          message: call[0] as { kind?: unknown },
          result: runs.mock.results[i],
        }))
        .filter(({ message }) => message.kind === kind);
    try {
      // The first connection may go as a task while the thread's lane is not known yet.
      for (const [i, text] of ['a', 'b'].entries()) {
        const client = await connect(server.port);
        client.socket.write(text);
        await client.next();
        client.socket.end();
        await server.summaries[i];
      }
      // One hold, or two if the second connection came after the first's linger.
      const holds = calls(HOLD_MESSAGE);
      expect(holds.length).toBeGreaterThanOrEqual(1);
      // Let go once the thread has held no connection for a while: its hold task ends.
      await holds.at(-1)?.result?.value;
      const tasks = calls(SESSION_MESSAGE).length;
      const laned = await connect(server.port);
      laned.socket.write('c');
      expect(await laned.next()).toMatch(/:c$/);
      const stubborn = await connect(server.port);
      stubborn.socket.write('d');
      await stubborn.next();
      // Both went down the lane, under a new hold.
      expect(calls(SESSION_MESSAGE)).toHaveLength(tasks);
      expect(calls(HOLD_MESSAGE)).toHaveLength(holds.length + 1);
      await p.close({ timeout: 300 });
      expect(await laned.next()).toBe('bye\n');
      await stubborn.closed;
    } finally {
      runs.mockRestore();
    }
    const summaries = await Promise.all(server.summaries);
    expect(summaries.map((summary) => summary.closedBy)).toEqual([
      'peer',
      'peer',
      'shutdown',
      'forced',
    ]);
  });

  it('closes connections with handler-error while the session module cannot be loaded', async () => {
    const p = pool({
      threads: 1,
      session: new URL('./fixtures/no-such-session.ts', import.meta.url),
    });
    const server = await served(p);
    // The first may go as a task, the next ones down the lane: the same summary either way.
    for (let i = 0; i < 3; i += 1) {
      const client = await connect(server.port);
      await client.closed;
      expect(await server.summaries[i]).toMatchObject({
        closedBy: 'handler-error',
        error: expect.stringContaining('no-such-session'),
      });
    }
    expect(p.stats).toMatchObject({ connections: 0, dropped: 0 });
  });

  it('counts finished sessions and tasks in stats.completed', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p);
    for (let i = 0; i < 2; i += 1) {
      const client = await connect(server.port);
      client.socket.end();
      await server.summaries[i];
    }
    expect(p.stats.completed).toBe(2);
    await p.run(2);
    expect(p.stats).toMatchObject({ completed: 3, connections: 0 });
  });

  it('replaces a thread that dies and keeps serving', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, (i) => ({ mode: i === 0 ? 'die-on-data' : 'echo' }));
    const doomed = await connect(server.port);
    doomed.socket.write('die');
    await doomed.closed;
    expect(await server.summaries[0]).toMatchObject({ closedBy: 'worker-exit' });
    const next = await connect(server.port);
    next.socket.write('after');
    expect(await next.next()).toMatch(/after$/);
    next.socket.end();
    await server.summaries[1];
  });
});

describe('close', () => {
  it('lets sessions finish when told to, then refuses new connections', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p);
    const client = await connect(server.port);
    client.socket.write('a');
    await client.next();
    await p.close({ timeout: 5_000 });
    expect(await client.next()).toBe('bye\n');
    expect(await server.summaries[0]).toMatchObject({ closedBy: 'shutdown' });
    const late = await connect(server.port);
    await late.closed;
    await expect(server.summaries[1]).rejects.toBeInstanceOf(PoolClosedError);
    await expect(server.summaries[1]).rejects.toMatchObject({ code: 'RTT_ERR_POOL_CLOSED' });
  });

  it('forces sessions that ignore the signal once the deadline passes', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, () => ({ mode: 'stubborn' }));
    const client = await connect(server.port);
    client.socket.write('a');
    await client.next();
    await p.close({ timeout: 50 });
    await client.closed;
    expect(await server.summaries[0]).toMatchObject({ closedBy: 'forced' });
  });
});

describe('run', () => {
  it('runs compute tasks in a thread', async () => {
    const p = pool({ threads: 2 });
    expect(await Promise.all([p.run(3), p.run(12)])).toEqual([9, 144]);
  });

  it('wraps a failing task', async () => {
    const p = pool({ threads: 1 });
    await expect(p.run(-1)).rejects.toBeInstanceOf(TaskFailedError);
    await expect(p.run(-1)).rejects.toMatchObject({ code: 'RTT_ERR_TASK_FAILED' });
  });

  it('needs a task module', async () => {
    const p = createPool({ session, threads: 1 });
    cleanups.push(() => p.close());
    await expect(p.run(1)).rejects.toBeInstanceOf(NoTaskModuleError);
    await expect(p.run(1)).rejects.toMatchObject({ code: 'RTT_ERR_NO_TASK_MODULE' });
  });
});

describe('types', () => {
  it('carries the context, task and result types', () => {
    const p = createPool<{ peer: string }, string, number>({ session });
    cleanups.push(() => p.close());
    expectTypeOf(p.adopt).parameter(1).toEqualTypeOf<{ peer: string }>();
    expectTypeOf(p.adopt).returns.toEqualTypeOf<Promise<SessionSummary>>();
    expectTypeOf(p.run).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(p.run).returns.toEqualTypeOf<Promise<number>>();
  });
});

describe('threads: 0', () => {
  it('serves sessions on the calling thread, with the same summaries', async () => {
    const p = pool({ threads: 0 });
    const server = await served(p);
    const client = await connect(server.port);
    client.socket.write('inline');
    expect(await client.next()).toBe('0:inline'); // threadId 0 is the main thread
    client.socket.end();
    expect(await server.summaries[0]).toMatchObject({ requests: 1, closedBy: 'peer', threadId: 0 });
    expect(p.stats.threads).toBe(0);
  });

  it('closes only the throwing session and forces stubborn ones at the deadline', async () => {
    const p = pool({ threads: 0 });
    const server = await served(p, (i) => ({ mode: i === 0 ? 'throw' : 'stubborn' }));
    const bad = await connect(server.port);
    await bad.closed;
    expect(await server.summaries[0]).toMatchObject({ closedBy: 'handler-error' });
    const stubborn = await connect(server.port);
    stubborn.socket.write('x');
    await stubborn.next();
    await p.close({ timeout: 50 });
    await stubborn.closed;
    expect(await server.summaries[1]).toMatchObject({ closedBy: 'forced' });
  });

  it('runs compute tasks inline', async () => {
    const p = pool({ threads: 0 });
    expect(await p.run(5)).toBe(25);
    await expect(p.run(-5)).rejects.toBeInstanceOf(TaskFailedError);
    await expect(p.run(-5)).rejects.toMatchObject({ code: 'RTT_ERR_TASK_FAILED' });
  });
});

describe('the session registry', () => {
  it('forgets sessions once they close, and reaches the open ones on close and force', async () => {
    const sessions = new SessionRegistry();
    const handler = (socket: Socket, _context: unknown, control: { signal: AbortSignal }) => {
      control.signal.addEventListener('abort', () => socket.write('closing'));
      socket.on('end', () => socket.end());
      socket.resume();
    };
    const summaries: Promise<SessionSummary>[] = [];
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      summaries.push(serveSession(handler, socket, {}, sessions, 0, undefined));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 20; i += 1) {
      const client = await connect(port);
      client.socket.end();
      await client.closed;
    }
    await Promise.all(summaries);
    // Closed sessions are not kept: nothing grows with every connection ever served.
    expect(sessions.size).toBe(0);

    const open = await connect(port);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sessions.size).toBe(1);
    sessions.closeAll();
    expect(await open.next()).toBe('closing');
    sessions.forceAll();
    await open.closed;
    expect(await summaries[20]).toMatchObject({ closedBy: 'forced' });
    expect(sessions.size).toBe(0);
    server.close();
  });
});

describe('session control', () => {
  it('calls onShutdown once when closing begins, and at once for a session that starts after', async () => {
    const sessions = new SessionRegistry();
    const told: string[] = [];
    const handler = (socket: Socket, context: unknown, control: SessionControl) => {
      control.onShutdown(() => {
        told.push(String(context));
        socket.end('bye');
      });
      socket.resume();
    };
    const summaries: Promise<SessionSummary>[] = [];
    let next = 0;
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      next += 1;
      summaries.push(serveSession(handler, socket, `s${next}`, sessions, 0, undefined));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const first = await connect(port);
    await new Promise((resolve) => setTimeout(resolve, 20));
    sessions.closeAll();
    sessions.closeAll();
    expect(await first.next()).toBe('bye');
    const late = await connect(port);
    expect(await late.next()).toBe('bye');
    expect(told).toEqual(['s1', 's2']);
    first.socket.end();
    late.socket.end();
    expect(await Promise.all(summaries)).toMatchObject([
      { closedBy: 'shutdown' },
      { closedBy: 'shutdown' },
    ]);
    server.close();
  });

  it('makes the signal only when asked, already aborted if closing has begun', async () => {
    const sessions = new SessionRegistry();
    sessions.closeAll();
    let signal: AbortSignal | undefined;
    const handler = (socket: Socket, _context: unknown, control: SessionControl) => {
      signal = control.signal;
      expect(control.signal).toBe(signal);
      socket.destroy();
    };
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      void serveSession(handler, socket, {}, sessions, 0, undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await connect((server.address() as AddressInfo).port);
    await client.closed;
    expect(signal?.aborted).toBe(true);
    server.close();
  });

  it('counts no dropped connection in ordinary use', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p);
    const client = await connect(server.port);
    client.socket.end();
    await server.summaries[0];
    expect(p.stats).toMatchObject({ connections: 0, dropped: 0 });
  });
});

describe('thread reports', () => {
  /** A pool whose reports are summed per thread; `until(n)` waits for n bytes reported. */
  function reporting(options: Parameters<typeof createPool>[0]) {
    const byThread = new Map<number, number>();
    const sessions = new Map<number, number>();
    let total = 0;
    let waiting: { bytes: number; resolve: () => void } | undefined;
    const p = pool({
      ...options,
      onReport: (report, thread) => {
        const { echoed, sessions: open } = report as { echoed: number; sessions: number };
        sessions.set(thread, open);
        byThread.set(thread, (byThread.get(thread) ?? 0) + echoed);
        total += echoed;
        if (waiting !== undefined && total >= waiting.bytes) waiting.resolve();
      },
    });
    const until = (bytes: number) =>
      total >= bytes
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiting = { bytes, resolve };
          });
    return { p, byThread, sessions, until, total: () => total };
  }

  it("reaches onReport from each thread, batched, with the thread's id", async () => {
    const { p, byThread, sessions, until } = reporting({ threads: 2, reportInterval: 10 });
    const server = await served(p, () => ({ report: true }));
    const client = await connect(server.port);
    client.socket.write('hello');
    const thread = Number((await client.next()).split(':')[0]);
    client.socket.write('world!');
    await client.next();
    await until(11);
    expect(byThread).toEqual(new Map([[thread, 11]]));
    expect(sessions).toEqual(new Map([[thread, 1]]));
    client.socket.end();
  });

  it('reports what is left when a thread lets go of its last session', async () => {
    // An interval no test waits for: only the flush on letting go can deliver the count.
    const { p, sessions, until } = reporting({ threads: 1, reportInterval: 2 ** 30 });
    const server = await served(p, () => ({ report: true }));
    const client = await connect(server.port);
    client.socket.write('abc');
    await client.next();
    client.socket.end();
    await server.summaries[0];
    await until(3);
    expect([...sessions.values()]).toEqual([0]);
  });

  it('reports from the calling thread with threads: 0, as thread 0, and flushes on close', async () => {
    const { p, byThread, total } = reporting({ threads: 0, reportInterval: 2 ** 30 });
    const server = await served(p, () => ({ report: true }));
    const client = await connect(server.port);
    client.socket.write('abcd');
    await client.next();
    await p.close({ timeout: 200 });
    expect(total()).toBe(4);
    expect([...byThread.keys()]).toEqual([0]);
  });

  it('checks onReport, onThreadExit and reportInterval', () => {
    expect(() => createPool({ onReport: 'no' as never })).toThrow(/onReport must be a function/);
    expect(() => createPool({ onThreadExit: 1 as never })).toThrow(
      /onThreadExit must be a function/,
    );
    expect(() => createPool({ reportInterval: 0 })).toThrow(/reportInterval must be a positive/);
    expect(() => createPool({ reportInterval: 2 ** 31 })).toThrow(
      /reportInterval must be at most 2147483647/,
    );
  });

  it('sends what was counted when the pool closes, even for a session that outlives it', async () => {
    const { p, total } = reporting({ threads: 1, reportInterval: 2 ** 30 });
    const server = await served(p, () => ({ mode: 'stubborn', report: true }));
    const client = await connect(server.port);
    client.socket.write('12345');
    await client.next();
    await p.close({ timeout: 100 });
    expect(total()).toBe(5);
  });

  it('tells onThreadExit which thread went, when one dies', async () => {
    const exited: number[] = [];
    let died: () => void = () => {};
    const gone = new Promise<void>((resolve) => {
      died = resolve;
    });
    const p = pool({
      threads: 1,
      onThreadExit: (thread) => {
        exited.push(thread);
        died();
      },
    });
    const server = await served(p, () => ({ mode: 'die-on-data' }));
    const client = await connect(server.port);
    client.socket.write('x');
    const summary = await server.summaries[0];
    await gone;
    expect(summary).toMatchObject({ closedBy: 'worker-exit' });
    expect(exited).toHaveLength(1);
    expect(exited[0]).toBeGreaterThan(0);
  });
});

describe('a context that cannot cross threads', () => {
  it('ends the connection as transfer-failed on both paths, and the pool serves on', async () => {
    // One connection fills the first thread, so the next goes as a task to start a second
    // (the task path); once the first has closed, its thread takes one down its lane.
    const p = pool({ threads: 2, activeThreads: 1, connectionsPerThread: 1 });
    const uncloneable = { call: () => 1 } as unknown as EchoContext;
    const contexts = [{}, uncloneable, uncloneable, {}];
    const server = await served(p, (i) => contexts[i] ?? {});
    const runs = vi.spyOn(Piscina.prototype, 'run');
    const sessionTasks = () =>
      runs.mock.calls.filter(
        ([message]) => (message as { kind?: unknown }).kind === SESSION_MESSAGE,
      ).length;
    try {
      const holder = await connect(server.port);
      holder.socket.write('a');
      await holder.next();
      const before = sessionTasks();
      const byTask = await connect(server.port);
      await byTask.closed;
      expect(sessionTasks()).toBe(before + 1);
      holder.socket.end();
      await server.summaries[0];
      const byLane = await connect(server.port);
      await byLane.closed;
      expect(sessionTasks()).toBe(before + 1);
      const after = await connect(server.port);
      after.socket.write('b');
      expect(await after.next()).toMatch(/:b$/);
      after.socket.end();
    } finally {
      runs.mockRestore();
    }
    const summaries = await Promise.all(server.summaries);
    for (const summary of [summaries[1], summaries[2]]) {
      expect(summary).toMatchObject({ closedBy: 'transfer-failed', requests: 0 });
      expect(summary?.error).toMatch(/could not be cloned/);
    }
    expect(summaries[3]).toMatchObject({ closedBy: 'peer', requests: 1 });
    expect(p.stats).toMatchObject({ dropped: 2, connections: 0, completed: 2 });
  });
});

describe('summary data', () => {
  it('is dropped, with a word in error, when it cannot cross threads; the thread serves on', async () => {
    const p = pool({ threads: 1 });
    const server = await served(p, (i) => ({ mode: i === 0 ? 'uncloneable-data' : 'echo' }));
    const bad = await connect(server.port);
    const good = await connect(server.port);
    bad.socket.write('a');
    await bad.next();
    good.socket.write('b');
    await good.next();
    bad.socket.end();
    const summary = await server.summaries[0];
    expect(summary).toMatchObject({ closedBy: 'peer' });
    expect(summary?.data).toBeUndefined();
    expect(summary?.error).toMatch(/summary data could not be sent/);
    good.socket.write('c');
    expect(await good.next()).toMatch(/:c$/);
    good.socket.end();
    expect(await server.summaries[1]).toMatchObject({ closedBy: 'peer', data: { last: 'c' } });
  });
});
