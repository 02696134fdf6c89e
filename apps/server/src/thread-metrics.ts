import {
  REQUEST_COMMANDS,
  type RequestCommand,
  type ServerSessionEvent,
  type Wire,
} from '@rtt/protocol';

/**
 * The counters each pool thread keeps for `--metrics-port`, and the report that carries them to
 * the main thread (through the pool's `setThreadReport`, at most once a second). A request
 * costs a few array increments here; prom-client runs on the main thread only, where the
 * reports are added up (see metrics.ts).
 */

export const WIRES: readonly Wire[] = ['framed', 'seed'];
export const COMMANDS = REQUEST_COMMANDS;

// A command's place in COMMANDS, looked up on every request.
const COMMAND_INDEX = Object.fromEntries(COMMANDS.map((command, i) => [command, i])) as Record<
  RequestCommand,
  number
>;

/**
 * Upper bounds of the request-latency buckets, in seconds: from 10 µs (a request answered at
 * once) to a quarter second (a thread stalled by a flood or a long GC pause).
 */
export const LATENCY_BUCKETS_S = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25,
] as const;
const BUCKETS_MS = LATENCY_BUCKETS_S.map((s) => s * 1000);
/** Counts per wire: one per bucket, then the +Inf bucket. */
const LATENCY_SLOTS = LATENCY_BUCKETS_S.length + 1;

/** What a thread reports: changes since its last report, but `sessions`, which is a level. */
export interface ThreadMetricsReport {
  /** Requests, indexed by {@link requestSlot}: [wire][command][ok]. */
  requests: number[];
  /** Latency counts per wire: `LATENCY_SLOTS` each, framed first (not cumulative). */
  latencyCounts: number[];
  /** Sum of latencies in seconds per wire. */
  latencySums: number[];
  /** Connections refused before their keys were agreed, by reason. */
  handshakeFailures: Record<string, number>;
  /** Connections closed for a protocol error or silence after their keys were agreed. */
  sessionErrors: Record<string, number>;
  /** Connections closed for a missing or bad PROXY protocol header, by reason. */
  proxyFailures: Record<string, number>;
  /** Sessions the thread holds now. */
  sessions: number;
}

/**
 * The index of a request counter in {@link ThreadMetricsReport.requests}.
 *
 * @example
 * requestSlot(0, 0, true); // framed TIME answered: 1
 */
export function requestSlot(wire: number, command: number, ok: boolean): number {
  return (wire * COMMANDS.length + command) * 2 + (ok ? 1 : 0);
}

/** The reason label of a refusal: `RTT_ERR_BAD_HELLO` is `bad-hello`. */
export function reasonLabel(code: string): string {
  return code
    .replace(/^RTT_ERR_/, '')
    .toLowerCase()
    .replaceAll('_', '-');
}

type RequestEvent = Extract<ServerSessionEvent, { type: 'request' }>;

/**
 * One thread's counters.
 *
 * @example
 * const metrics = new ThreadMetrics();
 * control.setThreadReport((thread) => metrics.collect(thread.sessions));
 * metrics.request(event, performance.now() - connection.receivedAt);
 */
export class ThreadMetrics {
  #requests = new Array<number>(WIRES.length * COMMANDS.length * 2).fill(0);
  #latencyCounts = new Array<number>(WIRES.length * LATENCY_SLOTS).fill(0);
  #latencySums = new Array<number>(WIRES.length).fill(0);
  #handshakeFailures: Record<string, number> = {};
  #sessionErrors: Record<string, number> = {};
  #proxyFailures: Record<string, number> = {};
  #changed = false;
  #sessions = -1;
  /** Counts an answered request and how long it took in the server (ms; NaN: unknown). */
  request(event: RequestEvent, latencyMs: number): void {
    const slot = requestSlot(
      event.wire === 'framed' ? 0 : 1,
      COMMAND_INDEX[event.command],
      event.ok,
    );
    this.#requests[slot] = (this.#requests[slot] as number) + 1;
    this.#changed = true;
    if (!(latencyMs >= 0)) return;
    const wire = event.wire === 'framed' ? 0 : 1;
    let bucket = 0;
    while (bucket < BUCKETS_MS.length && latencyMs > (BUCKETS_MS[bucket] as number)) bucket += 1;
    const index = wire * LATENCY_SLOTS + bucket;
    this.#latencyCounts[index] = (this.#latencyCounts[index] as number) + 1;
    this.#latencySums[wire] = (this.#latencySums[wire] as number) + latencyMs / 1000;
  }

  /** Counts a refused connection: before its keys were agreed, or after. */
  refused(code: string, handshake: boolean): void {
    const into = handshake ? this.#handshakeFailures : this.#sessionErrors;
    const reason = reasonLabel(code);
    into[reason] = (into[reason] ?? 0) + 1;
    this.#changed = true;
  }

  /** Counts a connection closed for its PROXY protocol header (`timeout`, `invalid`, ...). */
  proxyFailure(reason: string): void {
    this.#proxyFailures[reason] = (this.#proxyFailures[reason] ?? 0) + 1;
    this.#changed = true;
  }

  /**
   * The report since the last one, or `undefined` when nothing changed (an idle thread sends
   * nothing). `sessions`: the sessions the thread holds now.
   */
  collect(sessions: number): ThreadMetricsReport | undefined {
    if (!this.#changed && sessions === this.#sessions) return undefined;
    const report: ThreadMetricsReport = {
      requests: this.#requests,
      latencyCounts: this.#latencyCounts,
      latencySums: this.#latencySums,
      handshakeFailures: this.#handshakeFailures,
      sessionErrors: this.#sessionErrors,
      proxyFailures: this.#proxyFailures,
      sessions,
    };
    this.#requests = new Array<number>(report.requests.length).fill(0);
    this.#latencyCounts = new Array<number>(report.latencyCounts.length).fill(0);
    this.#latencySums = new Array<number>(report.latencySums.length).fill(0);
    this.#handshakeFailures = {};
    this.#sessionErrors = {};
    this.#proxyFailures = {};
    this.#changed = false;
    this.#sessions = sessions;
    return report;
  }
}
