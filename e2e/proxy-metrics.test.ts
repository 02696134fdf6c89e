import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, runClient, startServer } from './harness.ts';

/**
 * The server behind a proxy that speaks the PROXY protocol, and its metrics endpoint, with real
 * processes: a relay written here plays the proxy (HAProxy's own test is in e2e-haproxy/).
 */

afterEach(killAll);

const relays: net.Server[] = [];
afterEach(() => {
  for (const relay of relays.splice(0)) relay.close();
});

/**
 * A TCP relay to `port` that starts every connection with `header(client)`: a proxy that
 * claims the client is someone else.
 */
async function relay(port: number, header: (client: net.Socket) => string): Promise<number> {
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1', () => {
      upstream.write(header(client));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  relays.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** One sample of `/metrics`, by its full name with labels; undefined when absent. */
async function metric(port: number, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** Polls `/metrics` until `sample` is at least `value` (thread counters arrive in batches). */
async function metricReaches(port: number, sample: string, value: number): Promise<void> {
  for (;;) {
    if (((await metric(port, sample)) ?? 0) >= value) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('--proxy-protocol and --metrics-port, end to end', () => {
  it('logs the client the header names, closes a client without one, and counts both', async () => {
    const { proc: server, port } = await startServer(['--proxy-protocol', '--metrics-port', '0']);
    const metricsPort = Number(
      (await server.waitFor(/Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/))[1],
    );
    const proxied = await relay(port, () => `PROXY TCP4 203.0.113.7 127.0.0.1 51234 ${port}\r\n`);

    const { proc: client, code } = await runClient(['time', '-p', String(proxied)], '');
    expect(code, client.stderr).toBe(0);
    await server.waitFor(/Connection closed with the client with 203\.0\.113\.7 on port 51234/);
    expect(server.stdout).toContain(
      'Connection open from client with ip address 203.0.113.7 on port 51234',
    );

    // Straight to the server, no header: refused in one line, and not as an opened client.
    const direct = await runClient(['time', '-p', String(port)], '');
    expect(direct.code).not.toBe(0);
    const closing = await server.waitFor(
      /Closing 127\.0\.0\.1 port (\d+): no PROXY protocol header/,
    );
    expect(server.stdout).not.toContain(`on port ${closing[1]}\n`);

    // The client's TIME, after the requests it warms up and sets its clock with.
    await metricReaches(
      metricsPort,
      'rtt_requests_total{wire="framed",command="TIME",result="ok"}',
      1,
    );
    await metricReaches(metricsPort, 'rtt_request_duration_seconds_count{wire="framed"}', 1);
    await metricReaches(metricsPort, 'rtt_proxy_header_failures_total{reason="invalid"}', 1);
    expect(await metric(metricsPort, 'rtt_connections_accepted_total')).toBe(2);
    expect(await metric(metricsPort, 'rtt_handshake_failures_total{reason="bad-hello"}')).toBe(
      undefined,
    );
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('serves TLS after the header: the proxy passes TLS through, the server ends it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtt-proxy-tls-'));
    try {
      const { proc: server, port } = await startServer([
        '--proxy-protocol',
        '--tls',
        '--state-dir',
        join(dir, 'state'),
      ]);
      const proxied = await relay(port, () => `PROXY TCP6 2001:db8::7 ::1 40001 ${port}\r\n`);
      const { proc: client, code } = await runClient(
        ['time', '-p', String(proxied), '--tls', '--known-servers', join(dir, 'known_servers')],
        '',
      );
      expect(code, client.stderr).toBe(0);
      expect(client.stdout).toMatch(/TIME/);
      await server.waitFor(/Connection closed with the client with 2001:db8::7 on port 40001/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a client that hangs up before its header is one line, and never opened', async () => {
    const { proc: server, port } = await startServer(['--proxy-protocol']);
    expect(server.stdout).toContain(
      'PROXY protocol without --proxy-from: whoever reaches this port can claim any address',
    );
    // What a TCP health check does: connect, then close without a byte.
    const check = net.connect(port, '127.0.0.1');
    check.on('error', () => {});
    await once(check, 'connect');
    const localPort = check.localPort;
    check.end();
    await server.waitFor(
      new RegExp(`Closing 127\\.0\\.0\\.1 port ${localPort}: .*before a complete PROXY header`),
    );
    // A later client, served, shows the first left nothing more behind it.
    const proxied = await relay(port, () => `PROXY TCP4 192.0.2.1 127.0.0.1 1234 ${port}\r\n`);
    expect((await runClient(['time', '-p', String(proxied)], '')).code).toBe(0);
    await server.waitFor(/Connection closed with the client with 192\.0\.2\.1 on port 1234/);
    expect(server.stdout.match(new RegExp(`port ${localPort}\\b`, 'g'))).toHaveLength(1);
  });

  it('with --proxy-from, closes connections from other addresses before reading them', async () => {
    const { proc: server, port } = await startServer([
      '--proxy-protocol',
      '--proxy-from',
      '192.0.2.0/24',
    ]);
    const { code } = await runClient(['time', '-p', String(port)], '');
    expect(code).not.toBe(0);
    await server.waitFor(
      /Closing 127\.0\.0\.1 port \d+: not in --proxy-from, so its PROXY header is not trusted/,
    );
  });

  it('answers 503 on /readyz once closing, while sessions finish', async () => {
    const { proc: server, port } = await startServer([
      '--metrics-port',
      '0',
      '--close-timeout',
      '2',
    ]);
    const metricsPort = Number(
      (await server.waitFor(/Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/))[1],
    );
    // A seed client that never sends its key holds the server open while it closes.
    const held = net.connect(port, '127.0.0.1');
    held.on('error', () => {});
    await once(held, 'connect');
    await server.waitFor(/Connection open from client/);
    server.child.kill('SIGTERM');
    await server.waitFor(/Server closing/);
    const closing = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect([closing.status, await closing.text()]).toEqual([503, 'closing\n']);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
    held.destroy();
    expect((await server.exited).code).toBe(0);
  });
});
