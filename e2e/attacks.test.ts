/**
 * The hardening issue's attacks against real server processes, one test per point. They
 * assert what the server does (who gets answers, who is cut, what the log says), never how
 * fast: the figures are `pnpm --filter bench attack`'s job (docs/BENCHMARKS.md, "Under
 * attack"). The few time limits here are ten times what a healthy server needs.
 */
import { once } from 'node:events';
import net from 'node:net';
import { createKeyPair, SEED_GROUP } from '@rtt/cipher';
import {
  CipherId,
  Command,
  concatFrame,
  ErrorCode,
  encodeClientHello,
  encodeRequest,
  encodeSeedPublicKey,
  FrameDecoder,
  GroupId,
  PROTOCOL_VERSION,
} from '@rtt/protocol';
import { connect, type RttClient } from '@rtt/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelinedRequests, seedBytes, seedText } from '../apps/bench/src/attackers.ts';
import { residentBytes } from '../apps/bench/src/process-stats.ts';
import { killAll, type Proc, startServer } from './harness.ts';

afterEach(killAll);

// What the server's log calls a refused connection and a summary of lines left out. The
// server's wording is its own; these only need the words any such line has.
const REFUSAL_LINE = /busy|refus|too many connections|max(imum)?[ -]connections/i;
const SUMMARY_LINE = /suppress|omitted|dropped|skipped|not logged|more like|similar|\d+ more\b/i;
// Per-connection lines a second a flood may still produce: the server writes each kind of
// line (opened, closed, refused...) up to a budget a second (50 as of writing) and sums up
// the rest; 200 leaves room for a few kinds, far below a flood's thousands.
const LOG_LINES_PER_SECOND = 200;

type Wire = 'framed' | 'seed';

/** A new client on `wire` agrees keys and gets a TIME answer (10 s for each: generous). */
async function answers(port: number, wire: Wire): Promise<void> {
  const client = await connect({ host: '127.0.0.1', port, wire, timeoutMs: 10_000 });
  try {
    const reply = await withTimeout(client.request('TIME'), 10_000, `${wire} TIME answer`);
    expect(reply.ok).toBe(true);
  } finally {
    await client.close();
  }
}

async function bothWiresAnswer(port: number): Promise<void> {
  await Promise.all([answers(port, 'framed'), answers(port, 'seed')]);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A raw framed peer in clear (cipher NONE), so that every frame the server sends is readable. */
async function clearFramedPeer(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const messages: { type: string; id?: number; status?: number; code?: number }[] = [];
  const decoder = new FrameDecoder({
    role: 'client',
    onMessage: (m) => messages.push({ ...m, ...('payload' in m ? { payload: undefined } : {}) }),
  });
  let decodeError: unknown;
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch (err) {
      decodeError ??= err;
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const hello = encodeClientHello({
    version: PROTOCOL_VERSION,
    cipher: CipherId.NONE,
    group: GroupId.SEED,
    publicKey: createKeyPair(SEED_GROUP).publicKey,
  });
  return { socket, messages, closed, hello, decodeError: () => decodeError };
}

/** Resolves once `predicate` holds after some `'data'` of `socket`, or when it closes. */
function untilData(socket: net.Socket, predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!predicate()) return;
      socket.off('data', check);
      resolve();
    };
    socket.on('data', check);
    socket.once('close', () => resolve());
    check();
  });
}

/** Handshaken clients that stop reading, their sockets paused. */
async function nonReading(port: number, wire: Wire, count: number): Promise<RttClient[]> {
  const clients = await Promise.all(
    Array.from({ length: count }, () => connect({ host: '127.0.0.1', port, wire })),
  );
  for (const client of clients) {
    client.stream.on('error', () => {});
    client.stream.pause();
  }
  return clients;
}

/** Log lines written since `from` (an index into `proc.lines`). */
const linesSince = (proc: Proc, from: number) => proc.lines.slice(from);

/** Resolves with the first log line after line `from` that matches `pattern`. */
function lineAfter(proc: Proc, from: number, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = linesSince(proc, from).find((l) => pattern.test(l));
      if (line === undefined) return;
      proc.child.stdout?.off('data', check);
      resolve(line);
    };
    proc.child.stdout?.on('data', check);
    void proc.exited.then(() =>
      reject(new Error(`the server exited before a line like ${pattern}`)),
    );
    check();
  });
}

describe('the hardening issue: attacks on one server', () => {
  it('1. seed wire "T" and endless spaces: the attacker is answered ERROR or cut, others are served', async () => {
    const { proc: server, port } = await startServer();
    const attacker = await connect({ host: '127.0.0.1', port, wire: 'seed' });
    const socket = attacker.stream as net.Socket;
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.on('error', () => {});
    const text = () => seedText(received, attacker.key);
    socket.write(seedBytes(attacker.key, 'T', 1));
    const spaces = seedBytes(attacker.key, ' ', 64 * 1024);
    // 1 MiB, all queued at once: the server reads it at its own pace.
    for (let i = 0; i < 16 && !socket.destroyed; i++) socket.write(spaces);
    await bothWiresAnswer(port);
    await untilData(socket, () => text().includes('ERROR'));
    expect(text().includes('ERROR') || socket.destroyed).toBe(true);
    socket.destroy();
    await bothWiresAnswer(port);
    expect(server.child.exitCode).toBeNull();
  });

  it('2. twenty clients pipelining without reading: their answers do not pile up in the server, and a new client is answered', async () => {
    const { proc: server, port } = await startServer();
    const pid = server.child.pid as number;
    const rssBefore = residentBytes(pid) as number;
    const attackers = [
      ...(await nonReading(port, 'framed', 10)),
      ...(await nonReading(port, 'seed', 10)),
    ];
    // 16 MiB of requests each, pumped as the socket takes them. A server that reads a client
    // which does not read its answers keeps those answers (3 MB of heap each in the issue); one
    // that stops reading it leaves the client's writes stuck once the kernel's buffers are full.
    const perClient = 16 << 20;
    let stop = false;
    const progress = attackers.map(() => ({ sent: 0, stuckSince: 0 }));
    const pumps = attackers.map(async (client, i) => {
      const socket = client.stream as net.Socket;
      const state = progress[i] as { sent: number; stuckSince: number };
      const chunk =
        client.wire === 'framed'
          ? pipelinedRequests(client.key, 64 * 1024)
          : seedBytes(client.key, 'TIME', 64 * 1024);
      while (!stop && state.sent < perClient && !socket.destroyed) {
        state.sent += chunk.length;
        if (!socket.write(chunk)) {
          state.stuckSince = performance.now();
          await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
          state.stuckSince = 0;
        }
      }
    });
    // Until every attacker has sent it all, is cut, or has been stuck for a second (the server
    // stopped reading it), the server's RSS must stay within a generous bound.
    const boundBytes = 200 * 1024 * 1024;
    let maxGrowth = 0;
    const stuckOrDone = () =>
      attackers.every((client, i) => {
        const state = progress[i] as { sent: number; stuckSince: number };
        return (
          client.stream.destroyed ||
          state.sent >= perClient ||
          (state.stuckSince > 0 && performance.now() - state.stuckSince > 1_000)
        );
      });
    while (!stuckOrDone() && maxGrowth <= boundBytes) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      maxGrowth = Math.max(maxGrowth, (residentBytes(pid) ?? 0) - rssBefore);
    }
    await bothWiresAnswer(port);
    maxGrowth = Math.max(maxGrowth, (residentBytes(pid) ?? 0) - rssBefore);
    stop = true;
    for (const client of attackers) client.stream.destroy();
    await Promise.all(pumps);
    expect(server.child.exitCode).toBeNull();
    expect(maxGrowth / 1024 / 1024).toBeLessThan(boundBytes / 1024 / 1024);
    await bothWiresAnswer(port);
  });

  it('3. connections announcing a 64 KiB frame and trickling its body: the server stays up and serves', async () => {
    const { proc: server, port } = await startServer();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024);
    const clients: RttClient[] = [];
    for (let batch = 0; batch < 6; batch++) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, () => connect({ host: '127.0.0.1', port })),
        )),
      );
    }
    await Promise.all(
      clients.map((client) => {
        client.stream.on('error', () => {});
        return new Promise<void>((resolve) =>
          client.stream.write(Buffer.concat([header, Buffer.alloc(1024, 1)]), () => resolve()),
        );
      }),
    );
    await bothWiresAnswer(port);
    // A second trickle: the announced frames are still incomplete.
    for (const client of clients)
      if (!client.stream.destroyed) client.stream.write(Buffer.alloc(16, 1));
    await bothWiresAnswer(port);
    expect(server.child.exitCode).toBeNull();
    for (const client of clients) client.stream.destroy();
    await bothWiresAnswer(port);
  });

  it('4a. --idle-timeout 1: an idle framed client gets ERROR IDLE_TIMEOUT, an idle seed client is closed, a busy one stays', async () => {
    const { port } = await startServer(['--idle-timeout', '1', '--allow-plaintext']);
    const framed = await clearFramedPeer(port);
    framed.socket.write(framed.hello);
    const seed = await connect({ host: '127.0.0.1', port, wire: 'seed' });
    const seedLost = seed.lost;
    const busy = await connect({ host: '127.0.0.1', port });
    // Ten requests a second for 2.5 s: never idle for anything near 1 s.
    for (let i = 0; i < 25; i++) {
      expect((await busy.request('PING', 'still here')).ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await framed.closed;
    expect(framed.decodeError()).toBeUndefined();
    expect(framed.messages.map((m) => m.type)).toEqual(['server-hello', 'error']);
    expect(framed.messages[1]?.code).toBe(ErrorCode.IDLE_TIMEOUT);
    await seedLost;
    expect((await busy.request('TIME')).ok).toBe(true);
    await busy.close();
  });

  it('4b. --max-connections 3: a 4th framed client gets ERROR SERVER_BUSY, a seed one is closed, refusals are logged at most once a second', async () => {
    const { proc: server, port } = await startServer(['--max-connections', '3']);
    const held = await Promise.all(
      Array.from({ length: 3 }, () => connect({ host: '127.0.0.1', port })),
    );
    const firstLine = server.lines.length;
    const started = performance.now();
    const framed = await clearFramedPeer(port);
    framed.socket.write(framed.hello);
    await framed.closed;
    expect(framed.decodeError()).toBeUndefined();
    expect(framed.messages).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.SERVER_BUSY }),
    ]);
    const seed = net.connect({ port, host: '127.0.0.1' });
    seed.on('error', () => {});
    let seedBytesReceived = 0;
    seed.on('data', (chunk: Buffer) => {
      seedBytesReceived += chunk.length;
    });
    seed.write(encodeSeedPublicKey(createKeyPair(SEED_GROUP).publicKey));
    await once(seed, 'close');
    // The seed wire cannot say why; what matters is that no key came back.
    expect(seedBytesReceived).toBe(0);
    // Thirty more refusals in a row: their log lines must not be thirty.
    for (let i = 0; i < 30; i++) {
      const peer = await clearFramedPeer(port);
      peer.socket.write(peer.hello);
      await peer.closed;
    }
    // Held connections are still served meanwhile.
    for (const client of held) expect((await client.request('TIME')).ok).toBe(true);
    // A refusal may be told at once or summed up at the end of its second: wait for it.
    await withTimeout(lineAfter(server, firstLine, REFUSAL_LINE), 10_000, 'refusal line');
    const seconds = (performance.now() - started) / 1000;
    const refusals = linesSince(server, firstLine).filter((line) => REFUSAL_LINE.test(line));
    // One a second, plus one summary of those left out.
    expect(refusals.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    // A place freed is a place a new client gets.
    await held[0]?.close();
    await withTimeout(
      (async () => {
        for (;;) {
          try {
            await answers(port, 'framed');
            return;
          } catch {
            // The server may see the close a moment after us.
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      })(),
      10_000,
      'place for a new client',
    );
    for (const client of held.slice(1)) await client.close();
  });

  // 5. fd exhaustion (no leaked socket, a warning, serving again once descriptors free up) needs
  // a server under a low `ulimit -n`: apps/server/src/server.process.test.ts starts one so.

  it('6. a flood of bad connections: the log stays bounded and says what it left out', {
    timeout: 60_000,
  }, async () => {
    const { proc: server, port } = await startServer();
    const firstLine = server.lines.length;
    const started = performance.now();
    const flood = async () => {
      for (let i = 0; i < 200; i++) {
        const socket = net.connect({ port, host: '127.0.0.1' });
        socket.on('error', () => {});
        await once(socket, 'connect').catch(() => {});
        socket.end(Buffer.of(0xff));
        await once(socket, 'close');
      }
    };
    // 2,000 connections that start with neither protocol: three lines each when all logged.
    await Promise.all(Array.from({ length: 10 }, flood));
    await withTimeout(
      lineAfter(server, firstLine, SUMMARY_LINE),
      30_000,
      'summary line in the log',
    );
    const seconds = (performance.now() - started) / 1000;
    const lines = linesSince(server, firstLine);
    // At least half of the 6,000 lines are summed up, and the rate does not grow with the flood.
    expect(lines.length).toBeLessThan(3_000);
    expect(lines.length).toBeLessThanOrEqual(LOG_LINES_PER_SECOND * (Math.ceil(seconds) + 1));
    await bothWiresAnswer(port);
  });

  it('7a. shutdown with pipelined requests in flight: each is answered before the SHUTTING_DOWN frame or failed by it, none lost', async () => {
    const { proc: server, port } = await startServer(['--close-timeout', '5', '--allow-plaintext']);
    // A clear-text peer sees every frame in order; the library client sees what a program sees.
    const raw = await clearFramedPeer(port);
    raw.socket.write(raw.hello);
    const requests = 20_000;
    const frames: Uint8Array[] = [];
    for (let id = 1; id <= requests; id++)
      frames.push(concatFrame(encodeRequest(id, Command.PING)));
    raw.socket.write(concatFrame(frames));
    const client = await connect({ host: '127.0.0.1', port });
    const settled = Promise.allSettled(
      Array.from({ length: requests }, () => client.request('PING', 'x')),
    );
    await untilData(raw.socket, () => raw.messages.some((m) => m.type === 'response'));
    server.child.kill('SIGINT');
    const outcomes = await withTimeout(settled, 20_000, 'outcome for every request');
    await raw.closed;
    expect((await server.exited).code).toBe(0);

    expect(raw.decodeError()).toBeUndefined();
    const types = raw.messages.map((m) => m.type);
    expect(types[0]).toBe('server-hello');
    expect(types.at(-1)).toBe('error');
    expect(types.filter((t) => t === 'error')).toHaveLength(1);
    expect(raw.messages.at(-1)?.code).toBe(ErrorCode.SHUTTING_DOWN);
    const ids = raw.messages.filter((m) => m.type === 'response').map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect(id).toBeLessThanOrEqual(requests);

    let answered = 0;
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        expect(outcome.value.ok).toBe(true);
        answered++;
      } else {
        // Failed by the goodbye, not by a connection that vanished.
        expect(outcome.reason).toMatchObject({ wireCode: ErrorCode.SHUTTING_DOWN });
      }
    }
    expect(answered).toBeGreaterThan(0);
  });

  it('7b. shutdown while seed sessions pipeline: no write after end, the server exits 0', async () => {
    const { proc: server, port } = await startServer(['--close-timeout', '5']);
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => connect({ host: '127.0.0.1', port, wire: 'seed' })),
    );
    let writing = true;
    const pumps = clients.map(async (client) => {
      const socket = client.stream as net.Socket;
      socket.on('error', () => {});
      const chunk = seedBytes(client.key, 'TIME', 16 * 1024);
      while (writing && !socket.destroyed && socket.writable) {
        if (!socket.write(chunk)) {
          await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
        }
      }
    });
    // The seed sessions are mid-stream once answers flow back.
    await Promise.all(clients.map((client) => once(client.stream, 'data')));
    server.child.kill('SIGINT');
    const { code } = await server.exited;
    writing = false;
    for (const client of clients) client.stream.destroy();
    await Promise.all(pumps);
    expect(code).toBe(0);
    expect(server.stdout + server.stderr).not.toMatch(
      /ERR_STREAM_WRITE_AFTER_END|write after end/i,
    );
    expect(server.stderr).toBe('');
  });
});
