import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, type ProtocolError } from '@rtt/protocol';
import { connect, type RttClient } from '@rtt/protocol/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killAll, type Proc, REPO_ROOT, runClient, startServer } from '../e2e/harness.ts';
import {
  type Backend,
  HAPROXY,
  type HaproxyConfigOptions,
  haproxyConfig,
  startHaproxy,
} from './haproxy.ts';

// Issue 13: three servers with --proxy-protocol behind HAProxy (round robin, send-proxy-v2,
// health checks on /readyz), clients of both wires through it, and one server stopped with
// SIGTERM while its clients are connected.

const run = promisify(execFile);

let dir: string;
const clients: Client[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtt-e2e-haproxy-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.rtt.close()));
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

type Wire = 'framed' | 'seed';

/** A library client through HAProxy, with what befell its connection. */
interface Client {
  rtt: RttClient;
  wire: Wire;
  /** Its own port: what HAProxy's header names, and so what the server logs. */
  port: number;
  /** Why the connection ended, when it ended without our `close()`. */
  lost: ProtocolError | undefined;
  /** Socket errors (a reset would be one). */
  errors: Error[];
}

async function openClient(port: number, wire: Wire): Promise<Client> {
  const rtt = await connect({ host: '127.0.0.1', port, wire });
  const socket = rtt.stream as net.Socket;
  const client: Client = {
    rtt,
    wire,
    port: socket.localPort as number,
    lost: undefined,
    errors: [],
  };
  socket.on('error', (error) => client.errors.push(error));
  void rtt.lost.then((error) => {
    client.lost = error;
  });
  clients.push(client);
  return client;
}

const ANSWERS = {
  TIME: /^\d{2}:\d{2}:\d{2}\.\d{6}$/,
  DATE: /^\d{4}-\d{2}-\d{2}$/,
  TEMP: /^-?\d+(\.\d)?°C/,
} as const;

/** TIME, DATE and TEMP, each answered. */
async function ask(client: Client): Promise<void> {
  for (const [command, answer] of Object.entries(ANSWERS)) {
    const reply = await client.rtt.request(command as keyof typeof ANSWERS);
    expect(reply.ok).toBe(true);
    expect(reply.text).toMatch(answer);
  }
}

/** The real client app, through the menu (time, date, temperature, exit); resolves with its port. */
async function realClient(port: number, wire: Wire): Promise<number> {
  const { proc, code } = await runClient(
    ['-ip', '127.0.0.1', '-p', String(port), ...(wire === 'seed' ? ['--wire', 'seed'] : [])],
    '1\n2\n3\n4\n',
  );
  expect(code).toBe(0);
  expect(proc.stderr).toBe('');
  expect(proc.lines.filter((line) => line.includes('Response:'))).toHaveLength(3);
  const match = proc.lines[0]?.match(/address on port (\d+) connected to the server/);
  expect(match).not.toBeNull();
  return Number(match?.[1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds; fails saying `what` if it has not within 15 s. */
async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`still waiting for ${what} after 15 s`);
    await sleep(20);
  }
}

const OPENED = /Connection open from client with ip address 127\.0\.0\.1 on port (\d+)$/;
const CLOSED = /Connection closed with the client with 127\.0\.0\.1 on port (\d+)$/;
const CLIENT_LINE = /\b127\.0\.0\.1 (?:on )?port (\d+)\b/;
const LAST_START_LINE = 'To close the server press CTRL+C';

/** The ports a server's log names in lines that match `pattern`. */
const ports = (server: Proc, pattern: RegExp) =>
  server.lines.flatMap((line) => {
    const match = line.match(pattern);
    return match ? [Number(match[1])] : [];
  });

/** Each server's number of `ports`: every one logged by exactly one server. */
function spread(servers: readonly Proc[], clientPorts: readonly number[]): number[] {
  const opened = servers.map((server) => ports(server, OPENED));
  for (const port of clientPorts) {
    expect(
      opened.filter((logged) => logged.includes(port)),
      `port ${port}`,
    ).toHaveLength(1);
  }
  return opened.map((logged) => logged.filter((port) => clientPorts.includes(port)).length);
}

async function metrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = line.match(/^(rtt_\S+) (\S+)$/);
    if (match) values.set(match[1] as string, Number(match[2]));
  }
  return values;
}

/** The sum of the series whose name (labels included) starts with `prefix` and contains `part`. */
const sum = (values: Map<string, number>, prefix: string, part = '') =>
  [...values]
    .filter(([name]) => name.startsWith(prefix) && name.includes(part))
    .reduce((total, [, value]) => total + value, 0);

describe('three servers behind HAProxy', { timeout: 60_000 }, () => {
  it('serve 100 clients round robin, log their real ports, and one drains on SIGTERM while the others serve on', async () => {
    const servers = await Promise.all(
      ['rtt1', 'rtt2', 'rtt3'].map(async (name) => {
        const { proc, port } = await startServer([
          '--proxy-protocol',
          '--proxy-from',
          '127.0.0.1/32',
          '--metrics-port',
          '0',
          '--close-timeout',
          '2',
        ]);
        const metricsPort = Number(
          proc.stdout.match(/Metrics on http:\/\/127\.0\.0\.1:(\d+)\//)?.[1],
        );
        return { name, proc, port, metricsPort };
      }),
    );
    const backends: Backend[] = servers.map(({ name, port, metricsPort }) => ({
      name,
      address: `127.0.0.1:${port}`,
      metricsPort,
    }));
    const haproxy = await startHaproxy(dir, backends);
    const procs = servers.map((server) => server.proc);

    // 100 clients: 48 framed and 48 seed with the library, held open; 4 runs of the client app.
    // With the 14 after the SIGTERM, a survivor logs at most 34 + 3 + 5 connections: under the
    // server's budget of 50 lines of a kind a second, past which it sums lines up.
    const wires: Wire[] = Array.from({ length: 96 }, (_, i) => (i % 2 === 0 ? 'framed' : 'seed'));
    const [held, appPorts] = await Promise.all([
      Promise.all(wires.map((wire) => openClient(haproxy.port, wire))),
      Promise.all(
        (['framed', 'seed', 'framed', 'seed'] as const).map((wire) =>
          realClient(haproxy.port, wire),
        ),
      ),
    ]);
    await Promise.all(held.map(ask));
    const firstPorts = [...held.map((client) => client.port), ...appPorts];
    expect(new Set(firstPorts).size).toBe(100);
    // Each server logs the client HAProxy's header names (its port), not HAProxy's connection.
    await until('every client in a server log', () =>
      firstPorts.every((port) => procs.some((server) => ports(server, OPENED).includes(port))),
    );
    const counts = spread(procs, firstPorts);
    expect(counts.reduce((a, b) => a + b)).toBe(100);
    // Round robin: 34, 33, 33 in some order.
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // No other connection reached them: HAProxy's health checks go to the metrics port.
    expect(procs.flatMap((server) => ports(server, OPENED))).toHaveLength(100);

    // SIGTERM to the second server while its clients are connected. HAProxy's checks of it are
    // held off first, so that the moment between its closing and HAProxy marking it down (up
    // to `inter` x `fall` in a deployment) is as long as the test needs, not a matter of timing.
    const [first, victim, third] = servers as [
      (typeof servers)[0],
      (typeof servers)[0],
      (typeof servers)[0],
    ];
    const victimPorts = new Set(ports(victim.proc, OPENED));
    const told = held.filter((client) => victimPorts.has(client.port));
    const others = held.filter((client) => !victimPorts.has(client.port));
    expect(told.some((client) => client.wire === 'framed')).toBe(true);
    expect(told.some((client) => client.wire === 'seed')).toBe(true);
    await haproxy.command(`disable health rtt_servers/${victim.name}`);
    // The others keep asking throughout.
    let stopped = false;
    let answeredMeanwhile = 0;
    const traffic = Promise.all(
      others.map(async (client) => {
        while (!stopped) {
          const reply = await client.rtt.request('TIME');
          expect(reply.ok).toBe(true);
          answeredMeanwhile += 1;
        }
      }),
    );
    victim.proc.child.kill('SIGTERM');
    expect(await victim.proc.exited).toEqual({ code: 0, signal: null });
    // Its last lines may come after its exit.
    const output = victim.proc.child.stdout;
    if (output && !output.closed) await once(output, 'close');
    await until("the stopped server's clients to see their connection end", () =>
      told.every((client) => client.lost !== undefined),
    );
    for (const client of told) {
      if (client.wire === 'framed') {
        // The goodbye came through HAProxy: an ERROR frame SHUTTING_DOWN, then the close.
        expect(client.lost).toMatchObject({ wireCode: ErrorCode.SHUTTING_DOWN });
      } else {
        // The seed wire has no goodbye: a close (not a reset).
        expect(client.lost?.message).toBe('the server closed the connection');
      }
      expect(client.errors).toEqual([]);
    }
    // Every client it served has its closing line, with its real port.
    expect(new Set(ports(victim.proc, CLOSED))).toEqual(victimPorts);

    // The others saw nothing and are still answered.
    stopped = true;
    await traffic;
    expect(answeredMeanwhile).toBeGreaterThanOrEqual(others.length);
    await Promise.all(others.map(ask));
    for (const client of others) {
      expect(client.lost).toBeUndefined();
      expect(client.errors).toEqual([]);
    }

    // Gone, but still up for HAProxy: a new client that round robin gives it is refused there
    // and tried again on another (`retries`, `option redispatch 1`), none the wiser.
    const triedBefore = (await haproxy.servers()).get(victim.name)?.total ?? 0;
    // Four: any three in a row include it.
    const meanwhile = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        openClient(haproxy.port, i % 2 === 0 ? 'framed' : 'seed'),
      ),
    );
    await Promise.all(meanwhile.map(ask));
    expect((await haproxy.servers()).get(victim.name)?.total).toBeGreaterThan(triedBefore);

    // Checked again, it is marked down, and new clients go to the other two alone.
    await haproxy.command(`enable health rtt_servers/${victim.name}`);
    await haproxy.until((states) => /^(DOWN|MAINT)/.test(states.get(victim.name)?.status ?? ''));
    const triedAtDown = (await haproxy.servers()).get(victim.name)?.total;
    const late = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        openClient(haproxy.port, i % 2 === 0 ? 'framed' : 'seed'),
      ),
    );
    await Promise.all(late.map(ask));
    const laterPorts = [...meanwhile, ...late].map((client) => client.port);
    const survivors = [first.proc, third.proc];
    await until("every new client in a survivor's log", () =>
      laterPorts.every((port) => survivors.some((server) => ports(server, OPENED).includes(port))),
    );
    // Each logged by one of the two; after the mark-down, round robin between them.
    spread(survivors, laterPorts);
    expect(
      spread(
        survivors,
        late.map((client) => client.port),
      ),
    ).toEqual([5, 5]);
    expect((await haproxy.servers()).get(victim.name)?.total).toBe(triedAtDown);

    // Health checks (every 100 ms, on the metrics port) leave no line in any log: after the
    // start-up lines there is nothing but the clients' own connections and the victim's close.
    const everyPort = new Set([...firstPorts, ...laterPorts]);
    servers.forEach(({ proc }, index) => {
      expect(proc.stderr).toBe('');
      const lines = proc.lines.slice(proc.lines.findIndex((l) => l.endsWith(LAST_START_LINE)) + 1);
      const noise = lines.filter((line) => {
        // A client's lines name it (a seed session with key 0 has one more, "travels in
        // clear"); a turned-away connection's "Closing ..." line would name HAProxy's port.
        const port = Number(line.match(CLIENT_LINE)?.[1]);
        if (everyPort.has(port) && !line.includes('Closing')) return false;
        return !(index === 1 && line.endsWith('Server closing...'));
      });
      expect(noise, `server ${index + 1}`).toEqual([]);
    });

    // A survivor's metrics: every connection it took had a good header; its requests counted.
    const firstPortsHere = ports(first.proc, OPENED);
    const libraryHere = [...held, ...meanwhile, ...late].filter((c) =>
      firstPortsHere.includes(c.port),
    ).length;
    let values = await metrics(first.metricsPort);
    expect(values.get('rtt_connections_accepted_total')).toBe(firstPortsHere.length);
    expect(sum(values, 'rtt_proxy_header_failures_total')).toBe(0);
    expect(sum(values, 'rtt_handshake_failures_total')).toBe(0);
    // Thread counters come at most once a second. Each library client asked three times, the
    // survivors' twice over; the client app's runs add their own.
    while (sum(values, 'rtt_requests_total') < libraryHere * 3) {
      await sleep(100);
      values = await metrics(first.metricsPort);
    }
    expect(sum(values, 'rtt_requests_total', 'result="error"')).toBe(0);
  });

  it('the configuration docs/DEPLOY.md shows is the one this test runs, and HAProxy accepts it', async () => {
    const documented: HaproxyConfigOptions = {
      bind: '0.0.0.0:7777',
      maxconn: 20000,
      statsSocket: '/run/haproxy/rtt.sock',
      backends: [1, 2, 3].map((n) => ({
        name: `rtt${n}`,
        address: `10.0.0.1${n}:7777`,
        metricsPort: 9464,
      })),
      checkInterval: '2s',
      fall: 2,
      rise: 2,
    };
    const text = haproxyConfig(documented);
    const deploy = readFileSync(join(REPO_ROOT, 'docs/DEPLOY.md'), 'utf8');
    const block = deploy.match(/```haproxy\n([\s\S]*?)```/)?.[1];
    expect(block).toBe(text);
    const file = join(dir, 'documented.cfg');
    writeFileSync(file, text);
    // -c: check the configuration only (nothing is bound, no socket opened).
    const { stdout } = await run(HAPROXY, ['-c', '-f', file]);
    expect(stdout).toMatch(/Configuration file is valid/);
  });
});
