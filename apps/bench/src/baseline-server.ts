#!/usr/bin/env node
/**
 * The baseline the real server is judged against: the same framed wire (hello with
 * re-keying, Caesar, length-prefixed frames) from the same packages, served on one thread
 * with no pool, no logging, no seed-wire detection and no timers. Whatever the real server
 * costs beyond this is the price of its pool, its logs and its robustness.
 *
 *   pnpm --filter bench baseline -- -p 7800
 */
import net from 'node:net';
import { answeredHelpOrVersion, commandLine, integerIn, programArgs } from '@rtt/cli-support';
import { createAnswerer, FramedServerSession } from '@rtt/protocol';
import { StreamTransport } from '@rtt/protocol/node';

// The same answers as the real server, from the same code, so both do the same work; the
// temperature is a constant because reading a sensor is not what is being compared.
const answer = createAnswerer(() => ({ celsius: 21, simulated: true }));

/**
 * Serves one connection on the framed wire until it closes: the library's framed session
 * bound to the socket, and nothing else (no wire detection, no handshake timer).
 *
 * @example
 * net.createServer(serveBaseline).listen(7800);
 */
export function serveBaseline(socket: net.Socket): void {
  socket.on('error', () => {});
  const transport = new StreamTransport(socket);
  transport.attach(new FramedServerSession(transport, { answer }));
}

/**
 * Starts the baseline server and resolves once it listens.
 *
 * @example
 * const server = await startBaselineServer({ host: '127.0.0.1', port: 0 });
 * const { port } = server.address() as net.AddressInfo;
 */
export function startBaselineServer({
  host,
  port,
}: {
  host: string;
  port: number;
}): Promise<net.Server> {
  const server = net.createServer(serveBaseline);
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
  try {
    const parsed = await commandLine(programArgs(process.argv), {
      name: 'baseline',
      usage: '$0 [options]\n\nA minimal single-threaded server on the framed wire, for benchmarks.',
      version: false,
    })
      .option('ip', { alias: ['host'], type: 'string', default: '127.0.0.1' })
      .option('port', { alias: 'p', type: 'number', default: 7800 })
      .parse();
    if (answeredHelpOrVersion(parsed)) return 0;
    host = String(parsed.ip);
    port = integerIn('port', parsed.port, 0, 65535);
  } catch (err) {
    process.stderr.write(`baseline: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let server: net.Server;
  try {
    server = await startBaselineServer({ host, port });
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
