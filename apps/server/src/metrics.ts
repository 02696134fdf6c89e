import http from 'node:http';
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  type Metric,
  type MetricValue,
  Registry,
} from 'prom-client';
import {
  COMMANDS,
  LATENCY_BUCKETS_S,
  requestSlot,
  type ThreadMetricsReport,
  WIRES,
} from './thread-metrics.ts';

/**
 * The server's metrics for `--metrics-port`: prom-client's registry on the main thread, fed by
 * the accept loop (connections) and by the pool threads' reports (requests, refusals,
 * latency), which come batched at most once a second per thread (see thread-metrics.ts).
 */

/** What the metrics read from the server when scraped. */
export interface MetricSources {
  /** Connections open now (handed to the pool and not yet closed). */
  open(): number;
  /** Pool threads running. */
  threads(): number;
}

/**
 * A histogram whose buckets are counted elsewhere (in the pool threads) and added here. prom-client's
 * Histogram can only `observe()` one value at a time: replaying a thread's counts through
 * it would cost the main thread a call per request, which is what batching is for. prom-client's
 * registry takes any metric object with `get()`; this one gives the same shape its Histogram
 * gives (`_bucket` with `le`, `_sum`, `_count`).
 */
class MergedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #bounds: readonly number[];
  readonly #labels: readonly string[];
  /** Per label value: counts per bucket (+Inf last, not cumulative), and the sum. */
  #series: { counts: number[]; sum: number }[];

  constructor(name: string, help: string, bounds: readonly number[], labels: readonly string[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    this.#labels = labels;
    this.#series = this.#empty();
  }

  #empty(): { counts: number[]; sum: number }[] {
    return this.#labels.map(() => ({ counts: new Array(this.#bounds.length + 1).fill(0), sum: 0 }));
  }

  /** Adds counts (one per bucket and +Inf, for the label at `index`) and their sum. */
  add(index: number, counts: readonly number[], sum: number): void {
    const series = this.#series[index];
    if (series === undefined) return;
    for (let i = 0; i < series.counts.length; i++) {
      series.counts[i] = (series.counts[i] as number) + (counts[i] ?? 0);
    }
    series.sum += sum;
  }

  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: MetricValue<string>[];
  }> {
    const values: (MetricValue<string> & { metricName: string })[] = [];
    this.#series.forEach((series, index) => {
      const wire = this.#labels[index] as string;
      let cumulative = 0;
      series.counts.forEach((count, bucket) => {
        cumulative += count;
        const le = bucket < this.#bounds.length ? (this.#bounds[bucket] as number) : '+Inf';
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le, wire },
          value: cumulative,
        });
      });
      values.push({ metricName: `${this.name}_sum`, labels: { wire }, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: { wire }, value: cumulative });
    });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    this.#series = this.#empty();
  }
}

/**
 * The server's metrics and their registry.
 *
 * @example
 * const metrics = new ServerMetrics({ open: () => open, threads: () => pool.stats.threads });
 * metrics.accepted.inc();
 * pool = createPool({ ..., onReport: (report, thread) => metrics.merge(report as ThreadMetricsReport, thread) });
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly accepted: Counter;
  readonly turnedAway: Counter;
  readonly proxyHeaderFailures: Counter<'reason'>;
  readonly #requests: Counter<'wire' | 'command' | 'result'>;
  readonly #handshakeFailures: Counter<'reason'>;
  readonly #sessionErrors: Counter<'reason'>;
  readonly #threadConnections: Gauge<'thread'>;
  readonly #latency: MergedHistogram;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'rtt_connections_open',
      help: 'Client connections open now.',
      registers,
      collect() {
        this.set(sources.open());
      },
    });
    this.accepted = new Counter({
      name: 'rtt_connections_accepted_total',
      help: 'Client connections accepted and handed to a session.',
      registers,
    });
    this.turnedAway = new Counter({
      name: 'rtt_connections_refused_total',
      help: 'Client connections turned away because --max-connections were open.',
      registers,
    });
    this.proxyHeaderFailures = new Counter({
      name: 'rtt_proxy_header_failures_total',
      help: 'Connections closed for their PROXY protocol header, by reason (invalid, timeout, closed, not-allowed: from an address --proxy-from does not list).',
      labelNames: ['reason'],
      registers,
    });
    this.#requests = new Counter({
      name: 'rtt_requests_total',
      help: 'Requests answered, by wire, command and result (ok, or error for an unknown command or a failed answer).',
      labelNames: ['wire', 'command', 'result'],
      registers,
    });
    this.#handshakeFailures = new Counter({
      name: 'rtt_handshake_failures_total',
      help: 'Connections refused before their keys were agreed, by reason (bad-hello, handshake-timeout, unknown-wire, tls, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.#sessionErrors = new Counter({
      name: 'rtt_session_errors_total',
      help: 'Sessions closed by the server after their keys were agreed, by reason (idle-timeout, malformed-frame, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.#latency = new MergedHistogram(
      'rtt_request_duration_seconds',
      'Time from reading a request to writing its answer, in the server, by wire.',
      LATENCY_BUCKETS_S,
      WIRES,
    );
    this.registry.registerMetric(this.#latency as unknown as Metric);
    new Gauge({
      name: 'rtt_pool_threads',
      help: 'Pool threads running (0: sessions are served on the main thread).',
      registers,
      collect() {
        this.set(sources.threads());
      },
    });
    this.#threadConnections = new Gauge({
      name: 'rtt_thread_connections',
      help: 'Connections each pool thread holds (thread 0: the main thread), as last reported.',
      labelNames: ['thread'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
    // Every answered series from the start, so that a rate over the first requests is right
    // (the seed wire has no PING or CLOCK).
    for (const wire of WIRES) {
      for (const command of COMMANDS) {
        if (wire === 'seed' && (command === 'PING' || command === 'CLOCK')) continue;
        this.#requests.inc({ wire, command, result: 'ok' }, 0);
      }
    }
  }

  /**
   * Adds a pool thread's report.
   *
   * @example
   * metrics.merge(report, 3);
   */
  /**
   * Forgets a pool thread that has gone: its connections series is removed.
   *
   * @example
   * createPool({ ..., onThreadExit: (thread) => metrics.threadExited(thread) });
   */
  threadExited(thread: number): void {
    this.#threadConnections.remove({ thread: String(thread) });
  }

  merge(report: ThreadMetricsReport, thread: number): void {
    WIRES.forEach((wire, w) => {
      COMMANDS.forEach((command, c) => {
        const ok = report.requests[requestSlot(w, c, true)] ?? 0;
        const failed = report.requests[requestSlot(w, c, false)] ?? 0;
        if (ok > 0) this.#requests.inc({ wire, command, result: 'ok' }, ok);
        if (failed > 0) this.#requests.inc({ wire, command, result: 'error' }, failed);
      });
      const slots = LATENCY_BUCKETS_S.length + 1;
      this.#latency.add(
        w,
        report.latencyCounts.slice(w * slots, (w + 1) * slots),
        report.latencySums[w] ?? 0,
      );
    });
    for (const [reason, count] of Object.entries(report.handshakeFailures)) {
      this.#handshakeFailures.inc({ reason }, count);
    }
    for (const [reason, count] of Object.entries(report.sessionErrors)) {
      this.#sessionErrors.inc({ reason }, count);
    }
    for (const [reason, count] of Object.entries(report.proxyFailures)) {
      this.proxyHeaderFailures.inc({ reason }, count);
    }
    // Kept at 0 when a thread holds nothing; a thread that goes is removed (threadExited).
    this.#threadConnections.set({ thread: String(thread) }, report.sessions);
  }
}

/** Connections the metrics endpoint holds at once; more are closed by the system's accept. */
export const METRICS_MAX_CONNECTIONS = 32;

/** Where and what the metrics endpoint serves. */
export interface MetricsServerOptions {
  host: string;
  port: number;
  metrics: ServerMetrics;
  /** Whether the server takes new clients (listening and not closing), for `/readyz`. */
  ready: () => boolean;
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (200 while the process runs) and
 * `/readyz` (200 while the server takes clients, 503 once it is closing) over HTTP. Resolves
 * once listening; rejects with the listen error.
 *
 * @example
 * const endpoint = await serveMetrics({ host: '127.0.0.1', port: 9464, metrics, ready: () => !closing });
 * endpoint.close();
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<http.Server> {
  const { metrics, ready } = options;
  // Node checks the header and request deadlines on this interval (30 s by default): at 1 s,
  // a silent connection is closed about 5 s after it opened.
  const server = http.createServer({ connectionsCheckingInterval: 1_000 }, (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      response.end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok\n');
    } else if (path === '/readyz') {
      const isReady = ready();
      response.writeHead(isReady ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(isReady ? 'ready\n' : 'closing\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.registry.contentType });
          response.end(text);
        },
        (err: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  // A probe that hangs up mid-request is no concern of the server's log.
  server.on('clientError', (_err, socket) => socket.destroy());
  // Probes and scrapes are small and quick: keep-alive sockets need not outlive them by long,
  // and a client that dawdles or opens connection after connection cannot take the server's
  // file descriptors (it shares them with the clients' connections).
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  // A connection that sends nothing more, mid-request or between requests.
  server.timeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
