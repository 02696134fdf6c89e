import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLIENT_MAIN,
  killAll,
  Proc,
  REPO_ROOT,
  runClient,
  SERVER_MAIN,
  startServer,
} from './harness.ts';

afterEach(killAll);

const MENU = [
  'Select one of the option below:',
  '1. Request time from the server.',
  '2. Request date from the server.',
  '3. Request temperature from the server.',
  '4. Exit',
];

const RTT = 'with RTT \\d+\\.\\d{4} ms';

describe('the seed session, end to end', () => {
  it('answers 1, 2, 3, rejects 9 and exits on 4, with every line as the seed prints it', async () => {
    const { proc: server, port } = await startServer(['-t', '4']);
    const { proc: client, code } = await runClient(
      ['-ip', '127.0.0.1', '-p', String(port)],
      '1\n2\n3\n9\n4\n',
    );
    expect(code).toBe(0);
    const lines = client.lines;
    expect(lines[0]).toMatch(
      new RegExp(
        `^User ${hostname()} with 127\\.0\\.0\\.1 address on port (\\d+) connected to the server with 127\\.0\\.0\\.1 address on port ${port}\\. Sum: (\\d+)$`,
      ),
    );
    const [, localPort, sum] = lines[0]?.match(/port (\d+) connected.*Sum: (\d+)$/) ?? [];
    expect(Number(sum)).toBe(Number(localPort) + port);
    const rest = lines.slice(1);
    const expected = [
      ...MENU,
      `^💡 Response: \\d{2}:\\d{2}:\\d{2}\\.\\d{6} ${RTT}$`,
      ...MENU,
      `^💡 Response: \\d{4}-\\d{2}-\\d{2} ${RTT}$`,
      ...MENU,
      `^💡 Response: -?\\d+(\\.\\d)?°C( \\(simulated\\))? ${RTT}$`,
      ...MENU,
      '🛑 The option is not a valid one, please try again.',
      ...MENU,
      '⚠️  Connection closed',
    ];
    expect(rest).toHaveLength(expected.length);
    expected.forEach((line, i) => {
      if (line.startsWith('^')) expect(rest[i]).toMatch(new RegExp(line));
      else expect(rest[i]).toBe(line);
    });
    // DATE is today's local date on the server (same machine, same zone).
    const date = rest.join('\n').match(/Response: (\d{4}-\d{2}-\d{2}) /)?.[1];
    const now = new Date();
    const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    expect(date).toBe(today);

    await server.waitFor(/Connection closed with the client with 127\.0\.0\.1 on port \d+/);
    const opens = server.lines.filter((l) =>
      l.startsWith('💡 Connection open from client with ip address 127.0.0.1 on port '),
    );
    const closes = server.lines.filter((l) =>
      l.startsWith('⚠️  Connection closed with the client with 127.0.0.1 on port '),
    );
    expect(opens).toEqual([
      `💡 Connection open from client with ip address 127.0.0.1 on port ${localPort}`,
    ]);
    expect(closes).toEqual([
      `⚠️  Connection closed with the client with 127.0.0.1 on port ${localPort}`,
    ]);

    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
    expect(server.lines.at(-1)).toBe('⚠️  Server closing...');
  });

  it("prints the seed's start-up lines, and says what the cipher is", async () => {
    const { proc: server, port } = await startServer();
    await server.waitFor(/To close the server press CTRL\+C/);
    const lines = server.lines;
    const listening = lines.indexOf(`✅ Listening on 127.0.0.1 port ${port}...`);
    expect(listening).toBeGreaterThan(-1);
    expect(lines[listening + 1]).toBe('⚠️  To close the server press CTRL+C');
    expect(lines.some((l) => /Caesar.*for teaching, not for secrets/.test(l))).toBe(true);
    expect(lines.some((l) => /TEMP readings: (simulated|sensor)/.test(l))).toBe(true);
  });

  it('serves several clients at once, each with its own answers', async () => {
    const { proc: server, port } = await startServer(['-t', '2']);
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => runClient(['-p', String(port)], '1\n3\n2\n4\n')),
    );
    for (const { proc, code } of runs) {
      expect(code).toBe(0);
      expect(proc.lines.filter((l) => l.startsWith('💡 Response:'))).toHaveLength(3);
    }
    await server.waitFor(/(Connection closed[^\n]*\n[\s\S]*){6}/);
  });

  it('works through pnpm exactly as the README says: the `--` does not swallow -p', async () => {
    const { port } = await startServer();
    const proc = new Proc(
      'pnpm',
      ['--silent', '--filter', 'client', 'start', '--', '-p', String(port)],
      { stdin: '2\n4\n' },
    );
    const { code } = await proc.exited;
    expect(proc.stderr).toBe('');
    expect(code).toBe(0);
    expect(proc.lines[0]).toMatch(
      new RegExp(`connected to the server with 127\\.0\\.0\\.1 address on port ${port}\\.`),
    );
  });

  it('serves the same session on the main thread with -t 0', async () => {
    const { proc: server, port } = await startServer(['-t', '0']);
    await server.waitFor(/Serving every session on the main thread/);
    const { proc, code } = await runClient(['-p', String(port)], '1\n2\n3\n4\n');
    expect(code).toBe(0);
    expect(proc.lines.filter((l) => l.startsWith('💡 Response:'))).toHaveLength(3);
    await server.waitFor(/Connection closed with the client/);
  });

  it('logs one JSON object per line with --log-format json', async () => {
    const { proc: server, port } = await startServer(['--log-format', 'json']);
    const { code } = await runClient(['-p', String(port)], '4\n');
    expect(code).toBe(0);
    await server.waitFor(/Connection closed with the client/);
    const records = server.lines.map(
      (line) => JSON.parse(line) as { level: string; message: string; timestamp: string },
    );
    expect(records.map((r) => r.level)).toContain('success');
    expect(records.find((r) => r.message.startsWith('Connection open from client'))).toMatchObject({
      level: 'info',
    });
    expect(records.every((r) => typeof r.timestamp === 'string' && !r.message.includes('💡'))).toBe(
      true,
    );
  });

  it('logs to --log-file, pool threads included, with --log-timestamps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtt-e2e-log-'));
    const file = join(dir, 'server.log');
    const logged = async (pattern: RegExp): Promise<string> => {
      // The file has no 'data' event: read it until the line is there (or the test times out).
      for (;;) {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        if (pattern.test(text)) return text;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      const server = new Proc(process.execPath, [
        '--conditions=rtt-source',
        SERVER_MAIN,
        ...['-ip', '127.0.0.1', '-p', '0', '-t', '2', '--log-file', file, '--log-timestamps'],
      ]);
      const port = Number(
        (await logged(/Listening on 127\.0\.0\.1 port (\d+)/)).match(/port (\d+)\.\.\./)?.[1],
      );
      // Garbage: the session thread, not the main thread, logs why it closes the connection.
      const garbage = net.connect(port, '127.0.0.1');
      garbage.end('GET / HTTP/1.0\r\n\r\n');
      await once(garbage, 'close');
      await logged(/Closing .*\n.*Connection closed with the client/);
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(server.stdout).toBe('');
      expect(
        lines.every((line) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /.test(line)),
      ).toBe(true);
      expect(lines.at(-1)).toMatch(/ ⚠️ {2}Server closing\.\.\.$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends cleanly when input ends without 4', async () => {
    const { port } = await startServer();
    const { proc, code } = await runClient(['--ip', '127.0.0.1', '--port', String(port)], '1\n');
    expect(code).toBe(0);
    expect(proc.lines.at(-1)).toBe('⚠️  Connection closed');
  });

  it('takes the host as a positional argument too', async () => {
    const { port } = await startServer();
    const { proc, code } = await runClient(['127.0.0.1', '-p', String(port)], '4\n');
    expect(code).toBe(0);
    expect(proc.lines.at(-1)).toBe('⚠️  Connection closed');
  });
});

describe('command-line mistakes', () => {
  it.each([
    [['-p', '70000'], /invalid port 70000/],
    [['-t', '-3'], /invalid thread count -3/],
    [['-ip', 'not-an-address'], /invalid address not-an-address/],
    [['--bogus'], /Unknown argument/i],
  ])('server %j: one line, exit 2', async (args, pattern) => {
    const proc = new Proc(process.execPath, [
      '--conditions=rtt-source',
      `${REPO_ROOT}/apps/server/src/main.ts`,
      ...args,
    ]);
    const { code } = await proc.exited;
    expect(code).toBe(2);
    expect(proc.stderr).toMatch(/^rtt-server: /);
    expect(proc.stderr).toMatch(pattern);
    expect(proc.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('server on a port in use: one line, exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const proc = new Proc(process.execPath, [
        '--conditions=rtt-source',
        `${REPO_ROOT}/apps/server/src/main.ts`,
        '-ip',
        '127.0.0.1',
        '-p',
        String(port),
      ]);
      const { code } = await proc.exited;
      expect(code).toBe(1);
      expect(proc.stdout).toContain(
        `Cannot listen on 127.0.0.1 port ${port}: it is already in use`,
      );
      expect(proc.stdout + proc.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    } finally {
      blocker.close();
    }
  });

  it.each([
    [['-p', '0'], 2, /invalid port 0/],
    [['--wire', 'smoke'], 2, /Invalid values/i],
  ])('client %j: one line, exit %i', async (args, expectedCode, pattern) => {
    const { proc, code } = await runClient(args, '');
    expect(code).toBe(expectedCode);
    expect(proc.stderr).toMatch(pattern);
  });

  it('client against a closed port: one line, exit 1', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { proc, code } = await runClient(['-p', String(port)], '1\n');
    expect(code).toBe(1);
    expect(proc.stderr.trim()).toBe(
      `🛑 cannot connect to 127.0.0.1 port ${port}: connection refused (is the server running?)`,
    );
  });
});

describe('help and version', () => {
  it.each([
    ['server', SERVER_MAIN],
    ['client', CLIENT_MAIN],
  ])(
    '%s --help and --version print and exit 0 without doing anything else',
    async (_name, main) => {
      const help = new Proc(process.execPath, ['--conditions=rtt-source', main, '--help']);
      expect((await help.exited).code).toBe(0);
      expect(help.stdout).toMatch(/--port/);
      expect(help.stdout).not.toMatch(/Listening|User /);
      const version = new Proc(process.execPath, ['--conditions=rtt-source', main, '--version']);
      expect((await version.exited).code).toBe(0);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    },
  );
});

describe('the client and Ctrl+C', () => {
  it('ends the session like option 4', async () => {
    const { port } = await startServer();
    const client = new Proc(process.execPath, [
      '--conditions=rtt-source',
      CLIENT_MAIN,
      '-p',
      String(port),
    ]);
    await client.waitFor(/4\. Exit/);
    client.child.kill('SIGINT');
    expect((await client.exited).code).toBe(0);
    expect(client.lines.at(-1)).toBe('⚠️  Connection closed');
  });
});

describe('a reader of the output that goes away', () => {
  it('ends the client quietly (`client | head -1`), and leaves the server serving', async () => {
    const { proc: server, port } = await startServer();
    await server.waitFor(/To close the server/);
    // The server's log reader goes away: it must go on serving.
    server.child.stdout?.destroy();
    const client = new Proc(process.execPath, [
      '--conditions=rtt-source',
      CLIENT_MAIN,
      '-p',
      String(port),
    ]);
    await client.waitFor(/Sum: \d+/);
    client.child.stdout?.destroy();
    client.child.stdin?.end('1\n2\n3\n4\n');
    const { code } = await client.exited;
    expect(code).toBe(0);
    expect(client.stderr).toBe('');
    const { code: again } = await runClient(['-p', String(port)], '2\n4\n');
    expect(again).toBe(0);
    expect(server.child.exitCode).toBeNull();
    expect(server.stderr).toBe('');
  });
});
