import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, Proc, runClient, startServer } from './harness.ts';

afterEach(killAll);

const SEED_SERVER = fileURLToPath(new URL('./fixtures/seed_server.py', import.meta.url));
const TIME = '\\d{2}:\\d{2}:\\d{2}\\.\\d{6}';
const RTT = 'rtt=\\d+\\.\\d{3} ms';

describe('the client for scripts', () => {
  it('answers one command and exits 0: rtt-client time', async () => {
    const { port } = await startServer();
    const { proc, code } = await runClient(['-p', String(port), 'time'], '');
    expect(code).toBe(0);
    expect(proc.stderr).toBe('');
    expect(proc.lines).toHaveLength(1);
    expect(proc.lines[0]).toMatch(new RegExp(`^TIME ${TIME} ${RTT} offset=[+-]\\d+\\.\\d{3} ms$`));
  });

  it('prints one JSON object per answer with --json, and a summary after --count', async () => {
    const { port } = await startServer();
    const { proc, code } = await runClient(
      ['127.0.0.1', 'date', '-p', String(port), '--count', '3', '--interval', '0', '--json'],
      '',
    );
    expect(code).toBe(0);
    const objects = proc.lines.map((line) => JSON.parse(line));
    expect(objects.slice(0, 3)).toEqual(
      Array.from({ length: 3 }, () => ({
        command: 'DATE',
        status: 'OK',
        answer: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        rtt_ms: expect.any(Number),
      })),
    );
    expect(objects[3]).toMatchObject({ sent: 3, answered: 3, lost_percent: 0 });
  });

  it('pings, ping-style, and sums up as ping does', async () => {
    const { port } = await startServer();
    const { proc, code } = await runClient(
      ['-p', String(port), 'ping', '-c', '2', '-i', '0.05'],
      '',
    );
    expect(code).toBe(0);
    expect(proc.lines).toEqual([
      expect.stringMatching(new RegExp(`^PING ping ${RTT}$`)),
      expect.stringMatching(new RegExp(`^PING ping ${RTT}$`)),
      expect.stringMatching(
        /^2 sent, 2 answered, 0% lost; rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/,
      ),
    ]);
  });

  it('talks to the seed wire too, with no offset (the seed has no CLOCK)', async () => {
    const { port } = await startServer();
    const { proc, code } = await runClient(['-p', String(port), '--wire', 'seed', 'time'], '');
    expect(code).toBe(0);
    expect(proc.lines).toEqual([expect.stringMatching(new RegExp(`^TIME ${TIME} ${RTT}$`))]);
  });

  it('reports a refused connection as one JSON error object, exit 1', async () => {
    const { proc: server, port } = await startServer();
    server.child.kill('SIGTERM');
    await server.exited;
    const { proc, code } = await runClient(['-p', String(port), 'temp', '--json'], '');
    expect(code).toBe(1);
    expect(JSON.parse(proc.lines[0] as string)).toEqual({
      error: { code: 'RTT_ERR_CONNECT', message: expect.stringContaining('connection refused') },
    });
  });

  it('gives up on the original Python server after --timeout, naming --wire seed', async () => {
    const python = new Proc('python3', [SEED_SERVER, '-ip', '127.0.0.1', '-p', '0']);
    const port = Number((await python.waitFor(/Listening on 127\.0\.0\.1 port (\d+)/))[1]);
    const { proc, code } = await runClient(['-p', String(port), '--timeout', '0.5', 'time'], '');
    expect(code).toBe(1);
    expect(proc.stderr).toMatch(
      /key exchange within 0\.5 s \(the original Python server needs --wire seed\)/,
    );
  });
});
