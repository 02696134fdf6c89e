#!/usr/bin/env node
/**
 * The baseline the real server is judged against: the same framed wire (hello with
 * re-keying, Caesar, length-prefixed frames) from the same packages, served on one thread
 * with no pool, no logging, no seed-wire detection and no timers. Whatever the real server
 * costs beyond this is the price of its pool, its logs and its robustness. Its sockets send
 * at once (TCP_NODELAY), as the real server's do: without it an answer written while the last
 * one is unacknowledged waits for the client's delayed ACK (40 ms), and the comparison would
 * measure Nagle's algorithm (measured: it is worth about 6% of PING throughput in TLS at 50
 * connections, 7 rounds, either server).
 *
 * With `--tls` it serves the same framed wire inside TLS 1.3 (`tls.createServer`, nothing
 * else), with the certificate the real server made in `--state-dir` (`rtt-server --tls
 * --state-dir DIR` once), so that both servers present the same one.
 *
 *   pnpm --filter bench baseline -- -p 7800
 *   pnpm --filter bench baseline -- -p 7801 --tls --state-dir DIR
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { answeredHelpOrVersion, commandLine, integerIn, programArgs } from '@rtt/cli-support';
import { CipherId, createAnswerer, FramedServerSession } from '@rtt/protocol';
import { StreamTransport } from '@rtt/protocol/node';
import { NoCertificateError } from './errors.ts';

// The same answers as the real server, from the same code, so both do the same work; the
// temperature is a constant because reading a sensor is not what is being compared.
const answer = createAnswerer(() => ({ celsius: 21, simulated: true }));

/**
 * Serves one connection on the framed wire until it closes: the library's framed session
 * bound to the socket, and nothing else (no wire detection, no handshake timer).
 *
 * @example
 * net.createServer({ noDelay: true }, serveBaseline).listen(7800);
 */
export function serveBaseline(socket: net.Socket): void {
  socket.on('error', () => {});
  const transport = new StreamTransport(socket);
  transport.attach(new FramedServerSession(transport, { answer }));
}

// Inside TLS a client asks for the NONE cipher; Caesar stays accepted as the real server does.
const TLS_CIPHERS: readonly number[] = Object.freeze([CipherId.CAESAR, CipherId.NONE]);

/**
 * Serves one TLS connection (handshake done by `tls.Server`) on the framed wire, as
 * {@link serveBaseline} does on plain TCP.
 *
 * @example
 * tls.createServer({ cert, key, minVersion: 'TLSv1.3', noDelay: true }, serveBaselineTls).listen(7801);
 */
export function serveBaselineTls(socket: tls.TLSSocket): void {
  socket.on('error', () => {});
  const transport = new StreamTransport(socket);
  transport.attach(new FramedServerSession(transport, { answer, ciphers: TLS_CIPHERS }));
}

/** A certificate and its key, PEM. */
export interface BaselineCertificate {
  cert: string;
  key: string;
}

/**
 * The baseline's certificate: `cert.pem` and `key.pem` in `stateDir`, as `rtt-server --tls
 * --state-dir DIR` made them. Read, not made: the certificate is the server app's business,
 * and an app does not import another app.
 *
 * @throws {NoCertificateError} when the files are not there
 * @example
 * const certificate = baselineCertificate('/tmp/rtt-state');
 * await startBaselineServer({ host: '127.0.0.1', port: 0, tls: certificate });
 */
export function baselineCertificate(stateDir: string): BaselineCertificate {
  try {
    return {
      cert: readFileSync(join(stateDir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(stateDir, 'key.pem'), 'utf8'),
    };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new NoCertificateError(stateDir, reason, { cause: err });
  }
}

/**
 * Starts the baseline server and resolves once it listens; with `tls`, the framed wire inside
 * TLS 1.3 only.
 *
 * @example
 * const server = await startBaselineServer({ host: '127.0.0.1', port: 0 });
 * const { port } = server.address() as net.AddressInfo;
 */
export function startBaselineServer({
  host,
  port,
  tls: certificate,
}: {
  host: string;
  port: number;
  tls?: BaselineCertificate | undefined;
}): Promise<net.Server> {
  const server =
    certificate === undefined
      ? net.createServer({ noDelay: true }, serveBaseline)
      : tls.createServer(
          { ...certificate, minVersion: 'TLSv1.3', noDelay: true },
          serveBaselineTls,
        );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

async function main(): Promise<number> {
  let host: string;
  let port: number;
  let useTls: boolean;
  let stateDir: string | undefined;
  try {
    const parsed = await commandLine(programArgs(process.argv), {
      name: 'baseline',
      usage: '$0 [options]\n\nA minimal single-threaded server on the framed wire, for benchmarks.',
      version: false,
    })
      .option('ip', { alias: ['host'], type: 'string', default: '127.0.0.1' })
      .option('port', { alias: 'p', type: 'number', default: 7800 })
      .option('tls', { type: 'boolean', default: false, describe: 'the framed wire in TLS 1.3' })
      .option('state-dir', {
        type: 'string',
        describe: 'with --tls: where rtt-server --tls --state-dir made cert.pem and key.pem',
      })
      .parse();
    if (answeredHelpOrVersion(parsed)) return 0;
    host = String(parsed.ip);
    port = integerIn('port', parsed.port, 0, 65535);
    useTls = parsed.tls === true;
    stateDir = parsed['state-dir'] === undefined ? undefined : String(parsed['state-dir']);
    if (useTls && stateDir === undefined) {
      throw new Error('--tls needs --state-dir DIR (where rtt-server --tls made its certificate)');
    }
  } catch (err) {
    process.stderr.write(`baseline: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let certificate: BaselineCertificate | undefined;
  try {
    certificate = useTls ? baselineCertificate(stateDir as string) : undefined;
  } catch (err) {
    process.stderr.write(`baseline: ${(err as Error).message}\n`);
    return 1;
  }
  let server: net.Server;
  try {
    server = await startBaselineServer({ host, port, tls: certificate });
  } catch (err) {
    process.stderr.write(
      `baseline: cannot listen on ${host} port ${port}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  const { port: bound } = server.address() as net.AddressInfo;
  // The same line as the real server's, so the compare script reads both the same way.
  process.stdout.write(`Listening on ${host} port ${bound}...\n`);
  return new Promise((resolve) => {
    const stop = () => {
      server.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (import.meta.main) {
  const code = await main();
  process.exit(code);
}
