import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaselineServer } from './baseline-server.ts';
import { ENTRY, runBench, type ServerProcess, startServer } from './child-processes.ts';

let baseline: net.Server;
let port: number;

const sockets = new Set<net.Socket>();

beforeAll(async () => {
  baseline = await startBaselineServer({ host: '127.0.0.1', port: 0 });
  baseline.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  port = (baseline.address() as net.AddressInfo).port;
});

afterAll(async () => {
  const closed = new Promise<void>((resolve) => baseline.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  await closed;
});

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: string[], onSpawn?: (child: ChildProcess) => void): Promise<Outcome> {
  const child = spawn(process.execPath, ['--conditions=rtt-source', ENTRY.bench, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('bench command line', () => {
  it('measures a run and prints one JSON line', async () => {
    const { code, stdout, stderr } = await bench([
      '-p',
      String(port),
      '-c',
      '4',
      '-n',
      '300',
      '--json',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ requests: 300, connections: 4, errors: 0, pipeline: 1 });
    expect(report.rps).toBeGreaterThan(0);
    expect(report.latency_ms.max).toBeGreaterThanOrEqual(report.latency_ms.p50);
  });

  it('splits connections over threads, pipelines and merges the histograms', async () => {
    const { code, stdout } = await bench([
      '-ip',
      '127.0.0.1',
      '-p',
      String(port),
      '-c',
      '5',
      '--threads',
      '2',
      '--pipeline',
      '4',
      '-n',
      '400',
      '--warmup',
      '40',
      '--csv',
    ]);
    expect(code).toBe(0);
    const [header, row] = stdout.trim().split('\n');
    expect(header).toMatch(/^"test","rps"/);
    expect(row).toMatch(/^"PING","[\d.]+",("[\d.]+",){6}"400","5","0"/);
  });

  it('holds connections open at once and reports how many were answered', async () => {
    const { code, stdout } = await bench(['-p', String(port), '--hold', '40', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ hold: 40, held: 40, answered: 40, errors: 0 });
  });

  it('prints the redis-benchmark style report without a progress line off a terminal', async () => {
    const { code, stdout } = await bench(['-p', String(port), '-c', '2', '-n', '50']);
    expect(code).toBe(0);
    expect(stdout).toContain('====== PING ======');
    expect(stdout).toContain('50 requests completed');
    expect(stdout).not.toContain('\r');
  });

  it('says so in one line and exits 1 when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const free = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { code, stdout, stderr } = await bench(['-p', String(free), '-n', '10']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/connection refused/);
  });

  it('rejects a bad argument in one line with exit code 2', async () => {
    const { code, stderr } = await bench(['-c', 'many']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^rtt-bench: invalid connection count/);
  });

  it('stops on Ctrl+C and prints what was measured', async () => {
    let child: ChildProcess | undefined;
    const outcome = bench(['-p', String(port), '-c', '2', '--duration', '30', '--json'], (c) => {
      child = c;
    });
    // Once the first answers have come, interrupt.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    child?.kill('SIGINT');
    const { code, stdout } = await outcome;
    expect(code).toBe(130);
    const report = JSON.parse(stdout);
    expect(report.interrupted).toBe(true);
    expect(report.seconds).toBeLessThan(30);
  });
});

describe('bench on the seed wire against the real server', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('runs one request at a time per connection', async () => {
    server = await startServer('server', ENTRY.server, ['-ip', '127.0.0.1', '-p', '0', '-t', '0']);
    const { report, code } = await runBench([
      '-p',
      String(server.port),
      '--wire',
      'seed',
      '-c',
      '2',
      '-n',
      '40',
    ]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ requests: 40, errors: 0, wire: 'seed', command: 'TIME' });
  });
});
