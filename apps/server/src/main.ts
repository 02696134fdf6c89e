#!/usr/bin/env -S node --max-semi-space-size=1 --expose-gc
/**
 * The rtt server: accepts connections on the main thread and hands each one, paused, to the
 * pool, whose threads run the session until the client closes.
 *
 * Two V8 flags, for a server that holds many idle connections:
 * - a 1 MiB semi-space (V8's nursery) for the main thread: a burst of accepts grows it to
 *   tens of MiB, and it never shrinks while the server sits idle. Measured with `pnpm --filter
 *   bench compare` (10,000 held connections): 15.5 -> 12.2 KiB per connection by default,
 *   9.1 -> 4.2 KiB with -t 0, throughput at 50 connections unchanged within noise;
 * - `--expose-gc`, for `reclaim.ts`: each thread gives its memory back once it has gone quiet
 *   after working (10,000 connections held: RSS 210 -> 180 MiB 4 s after the burst; after they
 *   closed, 135 MiB within 5 s, below the idle server's 147). It replaced
 *   `--optimize-for-size`, which gave memory back too (after about 30 s) but made every thread
 *   collect more often while it worked: about 5% of a TLS handshake's CPU.
 * V8 reads flags only at start-up, so they are given where the server is started (this
 * line, the `start` script, the bench's launcher); the command works without them.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import net from 'node:net';
import { hostname } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileErrorReason, handleClosedOutput, programArgs } from '@rtt/cli-support';
import {
  createPool,
  type PoolOptions,
  SOCKET_TRANSFER_MIN_NODE,
  supportsSocketTransfer,
} from '@rtt/pool';
import { openKeylog, refuseConnection } from '@rtt/protocol/node';
import { readCertificate, type ServerCertificate, stateCertificate } from './certificate.ts';
import { parseServerArgs } from './cli.ts';
import { type ConnectionContext, displayAddress, type SessionConfig } from './context.ts';
import { CertificateError, NoSensorError, StateDirError } from './errors.ts';
import { DESCRIPTOR_RESERVE } from './limits.ts';
import { createLog } from './logger.ts';
import { ServerMetrics, serveMetrics } from './metrics.ts';
import { proxyAllowed } from './proxy-protocol.ts';
import { EverySecond, formatCount } from './rate-limit.ts';
import { logReclaimed, reclaimUnavailable, startMemoryReclaim } from './reclaim.ts';
import { logOpened } from './session.ts';
import { openTemperatureSource } from './temperature.ts';
import type { ThreadMetricsReport } from './thread-metrics.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

// A thread's young generation (V8's nursery) grows to tens of MiB under a burst of new
// connections and stays that size: measured with 5,000 held connections, the default server
// took 20 KiB of RSS each, 14 KiB with this limit; throughput of 50 busy connections was about
// 4% lower (49.0k vs 46.8k requests/s, two runs each on 2 shared cores).
const THREAD_YOUNG_GENERATION_MB = 4;

// The module the pool's threads load sits beside this one, with its extension: pool-session.ts
// when run from source, pool-session.js once built (tsup puts every entry in dist/).
const POOL_SESSION = new URL(
  `./pool-session${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges this user does not have',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/** Why an address cannot be listened on, to follow "it" in a line: in words where known. */
const listenReason = (err: unknown): string =>
  LISTEN_ERRORS[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;

async function main(): Promise<number> {
  let options: Awaited<ReturnType<typeof parseServerArgs>>;
  try {
    options = await parseServerArgs(programArgs(process.argv), version);
    if (options === undefined) return 0;
  } catch (err) {
    process.stderr.write(`rtt-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.stderr.write('Run with --help for the options.\n');
    return 2;
  }
  const colors =
    options.logFile === undefined && Boolean(process.stdout.isTTY) && options.logFormat === 'text';
  const logOptions = {
    level: options.logLevel,
    format: options.logFormat,
    colors,
    timestamps: options.logTimestamps,
    file: options.logFile,
  } as const;
  let log: ReturnType<typeof createLog>;
  try {
    log = createLog(logOptions);
  } catch (err) {
    // Only opening --log-file can fail here: say so on stderr, the log has nowhere to go.
    process.stderr.write(
      `rtt-server: cannot open the log file ${options.logFile}: ${fileErrorReason(err, 'writing')}\n`,
    );
    return 1;
  }
  if (startMemoryReclaim({ onReclaimed: (heap) => logReclaimed(log, heap) }) === undefined) {
    log.debug(`Memory is not given back when quiet: ${reclaimUnavailable()}`);
  }

  let temperatureDescription: string;
  try {
    temperatureDescription = openTemperatureSource(options.temperatureSource).description;
  } catch (err) {
    if (!(err instanceof NoSensorError)) throw err;
    log.error(`${err.message} (--temperature-source sensor); try --temperature-source auto`);
    return 1;
  }

  let certificate: ServerCertificate | undefined;
  if (options.tls) {
    // A certificate made now is kept for every later start, with the bound address among its
    // names: an address mistyped must not end up in it.
    const listenError = await addressError(options.ip);
    if (listenError !== undefined) {
      log.error(`Cannot listen on ${options.ip} port ${options.port}: it ${listenError}`);
      return 1;
    }
    try {
      certificate =
        options.certificate === undefined
          ? await stateCertificate({ stateDir: options.stateDir, names: [hostname(), options.ip] })
          : readCertificate(options.certificate.cert, options.certificate.key, 'given');
    } catch (err) {
      if (!(err instanceof CertificateError || err instanceof StateDirError)) throw err;
      log.error(`TLS: ${err.message}`);
      return 1;
    }
    if (options.keylog !== undefined) {
      // Opened here so that a key log that cannot be written is one line at start-up; each
      // thread opens its own (see session.ts). Held open, never closed: a program reading a
      // named pipe would see its end between this close and the threads' opens, and go.
      try {
        openKeylog(options.keylog);
      } catch (err) {
        log.error(
          `Cannot open the TLS key log ${options.keylog}: ${fileErrorReason(err, 'writing')}`,
        );
        return 1;
      }
    }
  }

  const config: SessionConfig = {
    handshakeTimeout: options.handshakeTimeout,
    idleTimeout: options.idleTimeout,
    maxUnsentBytes: options.maxUnsentBytes,
    temperatureSource: options.temperatureSource,
    tls:
      certificate === undefined
        ? undefined
        : { cert: certificate.cert, key: certificate.key, keylog: options.keylog },
    allowPlaintext: options.allowPlaintext,
    metrics: options.metrics !== undefined,
    proxyProtocol: options.proxyProtocol,
    log: logOptions,
  };
  // Connections handed to the pool and not yet closed, and connections being turned away.
  let open = 0;
  let refusing = 0;
  // The pool is made below, with the metrics' report sink; until then it has no threads.
  let poolThreads = () => 0;
  const metrics =
    options.metrics === undefined
      ? undefined
      : new ServerMetrics({ open: () => open, threads: () => poolThreads() });
  // Threads need a Node.js that can move sockets between them; on an older one every session
  // is served on the main thread, as with -t 0, and the log says so once.
  const poolAvailable = options.threads === 0 || supportsSocketTransfer();
  const poolOptions: PoolOptions = {
    session: POOL_SESSION,
    threads: poolAvailable ? options.threads : 0,
    closeTimeout: options.closeTimeout,
    data: config,
    resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
    ...(metrics === undefined
      ? {}
      : {
          onReport: (report: unknown, thread: number) =>
            metrics.merge(report as ThreadMetricsReport, thread),
          onThreadExit: (thread: number) => metrics.threadExited(thread),
        }),
  };
  const pool = createPool<ConnectionContext>(poolOptions);
  poolThreads = () => pool.stats.threads;

  const { maxConnections } = options;
  const refused = new EverySecond((count) =>
    log.warning(
      `Refusing connections: ${formatCount(count)} refused in the last second, ${formatCount(open)} open (--max-connections ${maxConnections})`,
    ),
  );
  // Without a free descriptor the system closes new connections before the server sees them
  // (libuv accepts and drops them) and the pool cannot move one to a thread: say so, once a
  // second, however many there are.
  const outOfDescriptors = new EverySecond((count) =>
    log.warning(
      `Out of file descriptors: ${formatCount(count)} connections closed in the last second, ${formatCount(open)} open; raise the limit (ulimit -n) or lower --max-connections`,
    ),
  );
  const closedLine = (context: ConnectionContext) => () =>
    `Connection closed with the client with ${context.address} on port ${context.port}`;
  const proxyFrom = options.proxyFrom === undefined ? undefined : proxyAllowed(options.proxyFrom);

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    if (open >= maxConnections) {
      refused.count();
      metrics?.turnedAway.inc();
      // Each client being told holds a descriptor for up to 3 s: past half the reserve, a
      // flood is closed at once rather than told.
      if (refusing >= DESCRIPTOR_RESERVE / 2) {
        socket.destroy();
        return;
      }
      refusing += 1;
      socket.once('close', () => {
        refusing -= 1;
      });
      refuseConnection(socket, { tls: options.tls });
      return;
    }
    const context: ConnectionContext = {
      address: displayAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
    };
    if (proxyFrom !== undefined && !proxyFrom(socket.remoteAddress)) {
      // Whoever may send a header is a matter of configuration: a stranger's is not read.
      metrics?.proxyHeaderFailures.inc({ reason: 'not-allowed' });
      log.event(
        'warning',
        'bad clients closed',
        () =>
          `Closing ${context.address} port ${context.port}: not in --proxy-from, so its PROXY header is not trusted`,
      );
      socket.destroy();
      return;
    }
    open += 1;
    metrics?.accepted.inc();
    // Behind a proxy the session writes this line, once the proxy's header names the client.
    if (!options.proxyProtocol) logOpened(log, context);
    pool.adopt(socket, context).then(
      (summary) => {
        open -= 1;
        if (summary.closedBy === 'no-descriptor' || summary.closedBy === 'transfer-failed') {
          outOfDescriptors.count();
        }
        // Behind a proxy the session gives back the client its header named, once it has
        // logged the connection as opened; a connection without one was never opened.
        if (options.proxyProtocol && summary.data === undefined) return;
        if (summary.data !== undefined) Object.assign(context, summary.data as ConnectionContext);
        log.event('warning', 'connections closed', closedLine(context));
        if (!log.enabled('debug')) return;
        log.event(
          'debug',
          'session summaries',
          () =>
            `Session ${context.address}:${context.port}: ${summary.requests} requests, ${summary.bytesIn} B in, ${summary.bytesOut} B out, ${summary.durationMs.toFixed(1)} ms, ${summary.closedBy}${summary.error ? ` (${summary.error})` : ''}`,
        );
      },
      () => {
        // Only a closing pool refuses a socket; it has destroyed it already.
        open -= 1;
      },
    );
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.ip, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    log.error(`Cannot listen on ${options.ip} port ${options.port}: it ${listenReason(err)}`);
    await pool.close({ timeout: 0 });
    return 1;
  }
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') outOfDescriptors.count();
    else log.error(`Server error: ${err.message}`);
  });

  const { port } = server.address() as net.AddressInfo;
  if (!poolAvailable) {
    log.warning(
      `Serving every session on the main thread: Node.js ${process.versions.node} cannot move connections to worker threads; run on Node.js >= ${SOCKET_TRANSFER_MIN_NODE} for the pool of up to ${options.threads} threads`,
    );
  } else {
    log.info(
      options.threads === 0
        ? 'Serving every session on the main thread (-t 0, no pool)'
        : `Serving with a pool of up to ${options.threads} threads, ${pool.options.activeThreads} started (one per core but one; more as connections need them)`,
    );
  }
  log.info(
    `Up to ${formatCount(maxConnections)} clients at once (--max-connections)${options.idleTimeout === 0 ? '' : `; idle ones closed after ${options.idleTimeout / 1000} s`}`,
  );
  log.info(
    `TEMP readings: ${temperatureDescription}${temperatureDescription === 'simulated' ? ' (no sensor on this host)' : ''}`,
  );
  if (certificate === undefined) {
    log.warning(
      'Cipher: Caesar keyed by Diffie-Hellman (p = 257, g = 11), as the seed asks. It has 64 possible keys: for teaching, not for secrets.',
    );
  } else {
    log.info(tlsLine(certificate));
    if (certificate.validTo.getTime() < Date.now()) {
      log.warning(
        `TLS certificate ${certificate.certPath} expired on ${isoDate(certificate.validTo)}: clients that check it will refuse it`,
      );
    } else if (certificate.validFrom.getTime() > Date.now()) {
      log.warning(
        `TLS certificate ${certificate.certPath} is not valid before ${isoDate(certificate.validFrom)}: clients that check it will refuse it until then (is this machine's clock right?)`,
      );
    }
    if (certificate.warning !== undefined) log.warning(`TLS: ${certificate.warning}`);
    log.warning(
      'Clients without TLS get the Caesar cipher keyed by Diffie-Hellman (p = 257, g = 11), as the seed asks: for teaching, not for secrets.',
    );
    if (options.keylog !== undefined) {
      log.warning(
        `TLS key log: appending every session's secrets to ${options.keylog}${options.keylog === process.env.SSLKEYLOGFILE ? ' ($SSLKEYLOGFILE)' : ''}; whoever reads it can decrypt the traffic`,
      );
    }
  }
  if (options.proxyProtocol) {
    log.info(
      options.proxyFrom === undefined
        ? 'PROXY protocol: every connection starts with a proxy header naming its client'
        : `PROXY protocol: every connection starts with a proxy header naming its client; headers taken only from ${options.proxyFrom.join(', ')}`,
    );
    if (options.proxyFrom === undefined) {
      log.warning(
        'PROXY protocol without --proxy-from: whoever reaches this port can claim any address; list the proxies with --proxy-from',
      );
    }
  }
  if (options.allowPlaintext) {
    log.warning(
      'Plaintext allowed (--allow-plaintext): clients that ask for no cipher over plain TCP are served in clear',
    );
  }
  let stopping = false;
  let metricsServer: Server | undefined;
  if (metrics !== undefined && options.metrics !== undefined) {
    const { host, port: metricsPort } = options.metrics;
    try {
      metricsServer = await serveMetrics({
        host,
        port: metricsPort,
        metrics,
        ready: () => !stopping,
      });
    } catch (err) {
      log.error(`Cannot serve metrics on ${host} port ${metricsPort}: it ${listenReason(err)}`);
      server.close();
      await pool.close({ timeout: 0 });
      return 1;
    }
    const bound = (metricsServer.address() as net.AddressInfo).port;
    const shown = host.includes(':') ? `[${host}]` : host;
    log.info(
      `Metrics on http://${shown}:${bound}/metrics; /healthz says alive, /readyz ready (503 once closing)`,
    );
  }
  log.success(`Listening on ${options.ip} port ${port}...`);
  log.warning('To close the server press CTRL+C');

  return new Promise<number>((resolve) => {
    const stop = () => {
      if (stopping) {
        log.warning('Forced to close');
        resolve(1);
        return;
      }
      stopping = true;
      log.warning('Server closing...');
      server.close();
      void pool.close().then(() => {
        refused.flush();
        outOfDescriptors.flush();
        // Open until the sessions are over, so that probes see 503 (not a refused connection)
        // while the server drains.
        metricsServer?.close();
        metricsServer?.closeAllConnections();
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/**
 * The start-up line that says where the certificate is and what its fingerprint is, the
 * value a client pins or a user compares.
 *
 * @example
 * tlsLine(certificate);
 * // 'TLS 1.3 on the same port: certificate ~/.local/state/rtt-server/cert.pem (self-signed, made now), fingerprint sha256:...'
 */
/**
 * Why the server could not listen on `ip` (any port), or `undefined` if it can: binds port 0
 * there a moment and lets go.
 */
function addressError(ip: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err) => resolve(listenReason(err)));
    probe.listen({ host: ip, port: 0 }, () => probe.close(() => resolve(undefined)));
  });
}

function tlsLine(certificate: ServerCertificate): string {
  const origin =
    certificate.origin === 'made'
      ? 'self-signed, made now'
      : certificate.origin === 'kept'
        ? `self-signed, kept from ${isoDate(certificate.validFrom)}`
        : 'given with --cert';
  return `TLS 1.3 on the same port: certificate ${certificate.certPath} (${origin}), fingerprint ${certificate.fingerprint}`;
}

handleClosedOutput('ignore');
const code = await main();
// Give the last log lines to stdout before leaving.
process.stdout.write('', () => process.exit(code));
