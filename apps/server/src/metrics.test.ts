import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { requestEvent } from '@rtt/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_MAX_CONNECTIONS, ServerMetrics, serveMetrics } from './metrics.ts';
import { ThreadMetrics } from './thread-metrics.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** The value of one sample line of the text format, e.g. `rtt_requests_total{...}`. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('ServerMetrics', () => {
  it('adds up thread reports into Prometheus counters, gauges and a histogram', async () => {
    let open = 7;
    const metrics = new ServerMetrics({ open: () => open, threads: () => 2 });
    metrics.accepted.inc(9);
    const a = new ThreadMetrics();
    const b = new ThreadMetrics();
    a.request(requestEvent('framed', 'TIME', true), 0.02);
    a.request(requestEvent('framed', 'TIME', true), 2);
    b.request(requestEvent('framed', 'TIME', true), 0.02);
    b.request(requestEvent('seed', 'unknown', false), 0.02);
    b.refused('RTT_ERR_HANDSHAKE_TIMEOUT', true);
    metrics.merge(a.collect(4) ?? expect.fail('a report'), 11);
    metrics.merge(b.collect(3) ?? expect.fail('a report'), 12);
    open = 6;
    const text = await metrics.registry.metrics();
    expect(sample(text, 'rtt_connections_open')).toBe(6);
    expect(sample(text, 'rtt_connections_accepted_total')).toBe(9);
    expect(sample(text, 'rtt_pool_threads')).toBe(2);
    expect(sample(text, 'rtt_requests_total{wire="framed",command="TIME",result="ok"}')).toBe(3);
    expect(sample(text, 'rtt_requests_total{wire="seed",command="unknown",result="error"}')).toBe(
      1,
    );
    expect(sample(text, 'rtt_handshake_failures_total{reason="handshake-timeout"}')).toBe(1);
    expect(sample(text, 'rtt_thread_connections{thread="11"}')).toBe(4);
    expect(sample(text, 'rtt_thread_connections{thread="12"}')).toBe(3);
    // 20 µs lands in le=0.000025 and every bucket above; 2 ms first in le=0.0025.
    expect(sample(text, 'rtt_request_duration_seconds_bucket{le="0.00001",wire="framed"}')).toBe(0);
    expect(sample(text, 'rtt_request_duration_seconds_bucket{le="0.000025",wire="framed"}')).toBe(
      2,
    );
    expect(sample(text, 'rtt_request_duration_seconds_bucket{le="0.001",wire="framed"}')).toBe(2);
    expect(sample(text, 'rtt_request_duration_seconds_bucket{le="0.0025",wire="framed"}')).toBe(3);
    expect(sample(text, 'rtt_request_duration_seconds_bucket{le="+Inf",wire="framed"}')).toBe(3);
    expect(sample(text, 'rtt_request_duration_seconds_count{wire="framed"}')).toBe(3);
    expect(sample(text, 'rtt_request_duration_seconds_sum{wire="framed"}')).toBeCloseTo(0.00204);
    expect(sample(text, 'rtt_request_duration_seconds_count{wire="seed"}')).toBe(1);
    expect(text).toContain('# TYPE rtt_request_duration_seconds histogram');
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // A thread that lets go of its last session says so.
    metrics.merge(a.collect(0) ?? expect.fail('a report'), 11);
    expect(sample(await metrics.registry.metrics(), 'rtt_thread_connections{thread="11"}')).toBe(0);
  });
});

describe('serveMetrics', () => {
  async function endpoint(ready: () => boolean) {
    const metrics = new ServerMetrics({ open: () => 0, threads: () => 0 });
    const server = await serveMetrics({ host: '127.0.0.1', port: 0, metrics, ready });
    closers.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    return (path: string, method = 'GET') => fetch(`http://127.0.0.1:${port}${path}`, { method });
  }

  it('answers /metrics, /healthz and /readyz, and 404 or 405 for the rest', async () => {
    let ready = true;
    const get = await endpoint(() => ready);
    const metricsResponse = await get('/metrics');
    expect(metricsResponse.status).toBe(200);
    expect(metricsResponse.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metricsResponse.text()).toContain('rtt_connections_open 0');
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    ready = false;
    const closing = await get('/readyz');
    expect([closing.status, await closing.text()]).toEqual([503, 'closing\n']);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });

  it('holds at most METRICS_MAX_CONNECTIONS connections: more are closed at once', async () => {
    const metrics = new ServerMetrics({ open: () => 0, threads: () => 0 });
    const server = await serveMetrics({ host: '127.0.0.1', port: 0, metrics, ready: () => true });
    closers.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const idle = await Promise.all(
      Array.from({ length: METRICS_MAX_CONNECTIONS }, async () => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        return socket;
      }),
    );
    closers.push(() => {
      for (const socket of idle) socket.destroy();
    });
    // Wait until the server has counted every one of them.
    for (;;) {
      const count = await new Promise<number>((resolve, reject) =>
        server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
      if (count === METRICS_MAX_CONNECTIONS) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    for (const socket of idle) socket.destroy();
    for (;;) {
      const count = await new Promise<number>((resolve, reject) =>
        server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
      if (count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('rejects with the listen error when the port is taken', async () => {
    const metrics = new ServerMetrics({ open: () => 0, threads: () => 0 });
    const first = await serveMetrics({ host: '127.0.0.1', port: 0, metrics, ready: () => true });
    closers.push(() => first.close());
    const { port } = first.address() as AddressInfo;
    await expect(
      serveMetrics({ host: '127.0.0.1', port, metrics, ready: () => true }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
