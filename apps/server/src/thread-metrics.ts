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
  // What has been counted since the last report; the report takes it whole.
  #counts = emptyCounts();
  #changed = false;
  #sessions = -1;

  /** Counts an answered request and how long it took in the server (ms; NaN: unknown). */
  request(event: RequestEvent, latencyMs: number): void {
    const counts = this.#counts;
    const wire = event.wire === 'framed' ? 0 : 1;
    const slot = requestSlot(wire, COMMAND_INDEX[event.command], event.ok);
    counts.requests[slot] = (counts.requests[slot] as number) + 1;
    this.#changed = true;
    if (!(latencyMs >= 0)) return;
    let bucket = 0;
    while (bucket < BUCKETS_MS.length && latencyMs > (BUCKETS_MS[bucket] as number)) bucket += 1;
    const index = wire * LATENCY_SLOTS + bucket;
    counts.latencyCounts[index] = (counts.latencyCounts[index] as number) + 1;
    counts.latencySums[wire] = (counts.latencySums[wire] as number) + latencyMs / 1000;
  }

  /** Counts a refused connection: before its keys were agreed, or after. */
  refused(code: string, handshake: boolean): void {
    const counts = this.#counts;
    this.#bump(handshake ? counts.handshakeFailures : counts.sessionErrors, reasonLabel(code));
  }

  /** Counts a connection closed for its PROXY protocol header (`timeout`, `invalid`, ...). */
  proxyFailure(reason: string): void {
    this.#bump(this.#counts.proxyFailures, reason);
  }

  #bump(byReason: Record<string, number>, reason: string): void {
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    this.#changed = true;
  }

  /**
   * The report since the last one, or `undefined` when nothing changed (an idle thread sends
   * nothing). `sessions`: the sessions the thread holds now.
   */
  collect(sessions: number): ThreadMetricsReport | undefined {
    if (!this.#changed && sessions === this.#sessions) return undefined;
    const report: ThreadMetricsReport = { ...this.#counts, sessions };
    this.#counts = emptyCounts();
    this.#changed = false;
    this.#sessions = sessions;
    return report;
  }
}

/** The counters of a report, all at zero. */
function emptyCounts(): Omit<ThreadMetricsReport, 'sessions'> {
  return {
    requests: new Array<number>(WIRES.length * COMMANDS.length * 2).fill(0),
    latencyCounts: new Array<number>(WIRES.length * LATENCY_SLOTS).fill(0),
    latencySums: new Array<number>(WIRES.length).fill(0),
    handshakeFailures: {},
    sessionErrors: {},
    proxyFailures: {},
  };
}
