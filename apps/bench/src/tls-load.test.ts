import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineCertificate, startBaselineServer } from './baseline-server.ts';
import { LoadStartError } from './errors.ts';
import { runHandshakes } from './handshakes.ts';
import { holdConnections } from './hold.ts';
import { benchTlsOptions } from './load-connection.ts';
import { LoadThread } from './load-thread.ts';

// The TLS baseline, and the plain one for the handshakes without TLS.
let tlsServer: net.Server;
let plainServer: net.Server;
let tlsPort: number;
let plainPort: number;
// cert.pem and key.pem copied from packages/protocol's fixtures, as rtt-server would name them.
const TEST_CERTIFICATE_DIR = mkdtempSync(join(tmpdir(), 'rtt-bench-tls-'));
const FIXTURES = new URL('../../../packages/protocol/test/fixtures/', import.meta.url);
copyFileSync(new URL('tls-cert.pem', FIXTURES), join(TEST_CERTIFICATE_DIR, 'cert.pem'));
copyFileSync(new URL('tls-key.pem', FIXTURES), join(TEST_CERTIFICATE_DIR, 'key.pem'));

const sockets = new Set<net.Socket>();

function track(server: net.Server, event: 'connection' | 'secureConnection'): number {
  server.on(event, (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  // A test-only certificate, the one the protocol package's own TLS tests use.
  const certificate = baselineCertificate(TEST_CERTIFICATE_DIR);
  tlsServer = await startBaselineServer({ host: '127.0.0.1', port: 0, tls: certificate });
  plainServer = await startBaselineServer({ host: '127.0.0.1', port: 0 });
  tlsPort = track(tlsServer, 'secureConnection');
  plainPort = track(plainServer, 'connection');
});

afterAll(async () => {
  const closed = [tlsServer, plainServer].map(
    (server) => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  for (const socket of sockets) socket.destroy();
  await Promise.all(closed);
  rmSync(TEST_CERTIFICATE_DIR, { recursive: true, force: true });
});

const handshakeOptions = {
  ip: '127.0.0.1',
  connections: 3,
  handshakes: 30,
  warmup: 3,
  command: 'TIME' as const,
  timeoutMs: 5_000,
};

describe('the TLS baseline and the bench over TLS', () => {
  it('serves TLS 1.3 only', async () => {
    const error = await new Promise<Error>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: tlsPort,
        maxVersion: 'TLSv1.2',
        rejectUnauthorized: false,
      });
      socket.once('error', (err) => resolve(err));
      socket.once('secureConnect', () => resolve(new Error('a TLS 1.2 handshake succeeded')));
    });
    expect(error.message).toMatch(/version|alert/i);
  });

  it("shares one TLS context among a thread's connections, and still does full handshakes", async () => {
    const options = benchTlsOptions();
    expect(benchTlsOptions()).toBe(options);
    expect(options.secureContext).toMatchObject({ context: expect.anything() });
    const reused: boolean[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, ...options });
      await new Promise((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      reused.push(socket.isSessionReused());
      socket.destroy();
    }
    // A resumed session would skip the key exchange the handshake rate is meant to measure.
    expect(reused).toEqual([false, false]);
  });

  it('measures exactly the handshakes asked for, with TLS and without', async () => {
    for (const [tlsOn, port] of [
      [true, tlsPort],
      [false, plainPort],
    ] as const) {
      const result = await runHandshakes({ ...handshakeOptions, port, tls: tlsOn });
      expect(result).toMatchObject({ completed: 30, errors: 0, failures: {}, interrupted: false });
      expect(result.histogram.totalCount).toBe(30);
      expect(result.seconds).toBeGreaterThan(0);
    }
  });

  it('says a refused first handshake is a start failure', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await runHandshakes({ ...handshakeOptions, port, tls: true }).catch((e) => e);
    expect(error).toBeInstanceOf(LoadStartError);
    expect((error as LoadStartError).code).toBe('ECONNREFUSED');
  });

  it('runs a pipelined load inside TLS', async () => {
    const thread = new LoadThread({
      ip: '127.0.0.1',
      port: tlsPort,
      connections: 2,
      pipeline: 4,
      command: 'PING',
      wire: 'framed',
      connectBatch: 2,
      timeoutMs: 5_000,
      tls: true,
    });
    await thread.connect();
    const stats = await thread.run({ requests: 200 });
    thread.close();
    expect(stats).toMatchObject({ completed: 200, errors: 0, failures: {} });
  });

  it('holds TLS connections and answers one request on each', async () => {
    const result = await holdConnections({
      ip: '127.0.0.1',
      port: tlsPort,
      count: 20,
      wire: 'framed',
      command: 'DATE',
      connectBatch: 5,
      timeoutMs: 5_000,
      tls: true,
    });
    expect(result).toMatchObject({ held: 20, answered: 20, errors: 0 });
  });
});
