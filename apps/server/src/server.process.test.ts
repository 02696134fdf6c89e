import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { connect } from '@rtt/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import { readCertificate, stateCertificate } from './certificate.ts';

// The real server in a child process, on 127.0.0.1 and a port the system picks.
const MAIN = new URL('./main.ts', import.meta.url).pathname;

interface Server {
  child: ChildProcess;
  port: number;
  lines: string[];
  exited: Promise<number | null>;
}

const running: Server[] = [];
const sockets: net.Socket[] = [];
const folders: string[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of running.splice(0)) server.child.kill('SIGKILL');
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'rtt-server-tls-'));
  folders.push(folder);
  return folder;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean): Promise<void> {
  // No deadline of its own: a condition that never holds fails by the test's timeout.
  while (!condition()) await sleep(25);
}

// The tests' own shell may have SSLKEYLOGFILE set: a server should write a key log only when
// a test asks for one.
const { SSLKEYLOGFILE: _keylog, ...ENV } = process.env;

// The Node flags the server's `#!` line gives it, for a test of what they are for.
const SHEBANG_FLAGS = (readFileSync(MAIN, 'utf8').split('\n', 1)[0] ?? '')
  .split(' ')
  .filter((word) => word.startsWith('--'));

function spawnServer(args: string[], openFiles?: number, flags: string[] = []): ChildProcess {
  const node = [
    process.execPath,
    ...flags,
    '--conditions=rtt-source',
    MAIN,
    ...(args.includes('-ip') ? [] : ['-ip', '127.0.0.1', '-p', '0']),
  ];
  return openFiles === undefined
    ? spawn(node[0] as string, [...node.slice(1), ...args], { env: ENV })
    : spawn('bash', ['-c', `ulimit -n ${openFiles}; exec "$@"`, 'bash', ...node, ...args], {
        env: ENV,
      });
}

async function startServer(args: string[], openFiles?: number, flags?: string[]): Promise<Server> {
  const child = spawnServer(args, openFiles, flags);
  const lines: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const server: Server = { child, port: 0, lines, exited };
  running.push(server);
  await until(() => lines.some((line) => line.includes('Listening on')));
  const listening = lines.find((line) => line.includes('Listening on')) ?? '';
  server.port = Number(/port (\d+)/.exec(listening)?.[1]);
  return server;
}

async function rawClient(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  return { socket, closed };
}

/** Sockets on the server's port in a TCP state (hex, as /proc/net/tcp writes it: 08 CLOSE-WAIT). */
function socketsInState(port: number, state: string): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === state) count += 1;
    }
  }
  return count;
}

// Real processes, each starting Node and the pool: on a loaded machine that takes seconds, so
// these wait by events with a generous ceiling rather than the unit tests' 5 s.
describe.skipIf(process.platform !== 'linux')('the server process', { timeout: 60_000 }, () => {
  it('out of file descriptors: warns once a second, leaks no socket, serves once descriptors free up, stops at once', async () => {
    // A close timeout of an hour: a connection left with no thread would hold shutdown that
    // long, and this test would time out.
    const server = await startServer(['--max-connections', '1000', '--close-timeout', '3600'], 64);
    const clients = await Promise.all(Array.from({ length: 80 }, () => rawClient(server.port)));
    await until(() => server.lines.some((line) => line.includes('Out of file descriptors')));
    expect(server.lines.find((line) => line.includes('Out of file descriptors'))).toMatch(
      /⚠️ {2}Out of file descriptors: [\d,]+ connections closed in the last second, [\d,]+ open; raise the limit \(ulimit -n\) or lower --max-connections/,
    );
    for (const client of clients) client.socket.destroy();
    // Every server-side socket goes once its client has left: none stays in CLOSE-WAIT.
    await until(
      () => socketsInState(server.port, '08') === 0 && socketsInState(server.port, '01') === 0,
    );

    const client = await connect({ host: '127.0.0.1', port: server.port });
    expect((await client.request('TIME')).ok).toBe(true);
    await client.close();

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('turns clients away past --max-connections, with one line a second, and serves the rest', async () => {
    const server = await startServer(['--max-connections', '2']);
    const served = await Promise.all(
      [1, 2].map(() => connect({ host: '127.0.0.1', port: server.port })),
    );
    const turnedAway = await Promise.all([1, 2, 3].map(() => rawClient(server.port)));
    for (const { socket } of turnedAway) socket.write('R');
    await Promise.all(turnedAway.map((client) => client.closed));
    await until(() => server.lines.some((line) => line.includes('Refusing connections')));
    expect(server.lines.filter((line) => line.includes('Refusing connections'))).toEqual([
      '⚠️  Refusing connections: 3 refused in the last second, 2 open (--max-connections 2)',
    ]);
    for (const client of served) expect((await client.request('DATE')).ok).toBe(true);
    await Promise.all(served.map((client) => client.close()));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('closes a client that stays silent past --idle-timeout, and says so', async () => {
    const server = await startServer(['--idle-timeout', '0.2']);
    const client = await connect({ host: '127.0.0.1', port: server.port });
    expect((await client.request('TIME')).ok).toBe(true);
    await new Promise<void>((resolve) => client.stream.once('close', () => resolve()));
    await until(() => server.lines.some((line) => line.includes('Connection closed')));
    expect(server.lines.some((line) => /Closing 127\.0\.0\.1 port \d+: idle/.test(line))).toBe(
      true,
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('started as its command starts it, gives memory back once quiet after a burst of connections', async () => {
    expect(SHEBANG_FLAGS).toContain('--expose-gc');
    const server = await startServer(['--log-level', 'debug', '-t', '1'], undefined, SHEBANG_FLAGS);
    const given = () =>
      server.lines.filter((line) => /Quiet: heap .* given back .*\(main thread\)/.test(line));
    // Start-up's own garbage first: given back a few seconds after start.
    await until(() => given().length === 1);
    // Then enough work for the threshold: each connection accepted, moved, handshaken, closed.
    for (let round = 0; round < 30; round++) {
      const clients = await Promise.all(
        Array.from({ length: 50 }, () => connect({ host: '127.0.0.1', port: server.port })),
      );
      await Promise.all(clients.map((client) => client.close()));
    }
    await until(() => given().length === 2);
    const match = /Quiet: heap ([\d.]+) -> ([\d.]+) MiB/.exec(given()[1] ?? '');
    expect(Number(match?.[2])).toBeLessThanOrEqual(Number(match?.[1]));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('says the limits it runs with', async () => {
    const server = await startServer(['--max-connections', '5000', '--idle-timeout', '60']);
    expect(server.lines).toContain(
      '💡 Up to 5,000 clients at once (--max-connections); idle ones closed after 60 s',
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

/** Runs the server to its exit (a start-up mistake) and gives its code and output. */
async function failedStart(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnServer(args);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  running.push({ child, port: 0, lines: [], exited: Promise.resolve(null) });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

const FINGERPRINT_LINE =
  /^💡 TLS 1\.3 on the same port: certificate (.+) \((self-signed, made now|self-signed, kept from \d{4}-\d\d-\d\d|given with --cert)\), fingerprint (sha256:[A-Za-z0-9+/]{43})$/;

function fingerprintLine(server: Server): { path: string; origin: string; fingerprint: string } {
  const match = server.lines.map((line) => FINGERPRINT_LINE.exec(line)).find(Boolean);
  expect(match, server.lines.join('\n')).toBeTruthy();
  const [, path = '', origin = '', fingerprint = ''] = match ?? [];
  return { path, origin, fingerprint };
}

/** A plain Node TLS client that completes the handshake and gives what it saw. */
async function tlsHandshake(
  port: number,
): Promise<{ protocol: string | null; fingerprint: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const der = socket.getPeerCertificate().raw;
  const fingerprint = `sha256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
  const protocol = socket.getProtocol();
  socket.destroy();
  return { protocol, fingerprint };
}

describe.skipIf(process.platform !== 'linux')(
  'the server process with --tls',
  { timeout: 60_000 },
  () => {
    it('makes its certificate, logs the fingerprint, serves TLS 1.3, writes the key log, keeps the certificate', async () => {
      const folder = temporaryFolder();
      const stateDir = join(folder, 'state');
      const keylog = join(folder, 'keys.log');
      const args = ['--tls', '--state-dir', stateDir, '--keylog', keylog, '-t', '2'];
      const server = await startServer(args);
      const first = fingerprintLine(server);
      expect(first).toMatchObject({
        path: join(stateDir, 'cert.pem'),
        origin: 'self-signed, made now',
      });
      expect(server.lines).toContain(
        `⚠️  TLS key log: appending every session's secrets to ${keylog}; whoever reads it can decrypt the traffic`,
      );
      expect(statSync(join(stateDir, 'key.pem')).mode & 0o777).toBe(0o600);

      // A plain TLS client: TLS 1.3, and the certificate whose fingerprint the log gave.
      expect(await tlsHandshake(server.port)).toEqual({
        protocol: 'TLSv1.3',
        fingerprint: first.fingerprint,
      });
      // Our client, with our protocol inside TLS.
      const client = await connect({
        host: '127.0.0.1',
        port: server.port,
        tls: { rejectUnauthorized: false },
      });
      expect((await client.request('TIME')).ok).toBe(true);
      await client.close();

      await until(() => readFileSync(keylog, 'utf8').includes('SERVER_TRAFFIC_SECRET_0'));
      const lines = readFileSync(keylog, 'utf8').trimEnd().split('\n');
      expect(lines.some((line) => line.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET '))).toBe(true);
      // NSS format: label, 32-byte client random, secret, all hex.
      for (const line of lines) expect(line).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
      expect(statSync(keylog).mode & 0o777).toBe(0o600);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);

      const again = await startServer(args);
      const second = fingerprintLine(again);
      expect(second.origin).toMatch(/^self-signed, kept from \d{4}-\d\d-\d\d$/);
      expect(second.fingerprint).toBe(first.fingerprint);
      expect((await tlsHandshake(again.port)).fingerprint).toBe(first.fingerprint);
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    });

    it('warns when a client speaks TLS to a server without --tls', async () => {
      const server = await startServer([]);
      const socket = tls.connect({
        host: '127.0.0.1',
        port: server.port,
        rejectUnauthorized: false,
      });
      sockets.push(socket);
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await until(() => server.lines.some((line) => line.includes('Closing 127.0.0.1')));
      expect(server.lines.find((line) => line.includes('Closing 127.0.0.1'))).toMatch(
        /^⚠️ {2}Closing 127\.0\.0\.1 port \d+: .*--tls/,
      );
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    });

    it('takes --cert and --key only together, and says what is wrong with them', async () => {
      const missingKey = await failedStart(['--tls', '--cert', 'cert.pem']);
      expect(missingKey.code).toBe(2);
      expect(missingKey.output).toContain('rtt-server: --cert needs --key (give both)');

      const folder = temporaryFolder();
      const unreadable = await failedStart([
        '--tls',
        '--cert',
        join(folder, 'none.pem'),
        '--key',
        join(folder, 'none.key'),
      ]);
      expect(unreadable.code).toBe(1);
      expect(unreadable.output.trim().split('\n')).toEqual([
        `🛑 TLS: cannot read the certificate ${join(folder, 'none.pem')}: no such file`,
      ]);
    });

    // Each used to make its own pair and announce it; only the last rename was on disk.
    it('gives servers started together on one state directory the one certificate on disk', async () => {
      const stateDir = join(temporaryFolder(), 'state');
      const servers = await Promise.all(
        Array.from({ length: 4 }, () => startServer(['--tls', '--state-dir', stateDir, '-t', '1'])),
      );
      const onDisk = readCertificate(join(stateDir, 'cert.pem'), join(stateDir, 'key.pem'), 'kept');
      const announced = servers.map((server) => fingerprintLine(server));
      for (const { fingerprint } of announced) expect(fingerprint).toBe(onDisk.fingerprint);
      expect(announced.filter(({ origin }) => origin === 'self-signed, made now')).toHaveLength(1);
      for (const server of servers) {
        expect((await tlsHandshake(server.port)).fingerprint).toBe(onDisk.fingerprint);
        server.child.kill('SIGTERM');
        expect(await server.exited).toBe(0);
      }
    });

    // Both used to start: the chain then failed every connection, TLS or not, and the address
    // stayed in a certificate kept for every later start.
    it('refuses a chain OpenSSL cannot load, and makes no certificate for an address it cannot listen on', async () => {
      const folder = temporaryFolder();
      const made = await stateCertificate({ stateDir: join(folder, 'made') });
      const chain = join(folder, 'chain.pem');
      const key = join(folder, 'server.key');
      writeFileSync(chain, `${made.cert}${made.cert}`.slice(0, -100));
      writeFileSync(key, made.key);
      const damaged = await failedStart(['--tls', '--cert', chain, '--key', key]);
      expect(damaged.code).toBe(1);
      expect(damaged.output.trim().split('\n')).toEqual([
        `🛑 TLS: ${chain}: certificate 2 of its chain is cut short (no END CERTIFICATE line)`,
      ]);

      const stateDir = join(folder, 'state');
      // TEST-NET-1 (RFC 5737): never an address of this machine.
      const elsewhere = await failedStart([
        '-ip',
        '192.0.2.1',
        '-p',
        '0',
        '--tls',
        '--state-dir',
        stateDir,
      ]);
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.output.trim().split('\n')).toEqual([
        '🛑 Cannot listen on 192.0.2.1 port 0: it is not an address of this machine',
      ]);
      expect(existsSync(stateDir)).toBe(false);
    });
  },
);
