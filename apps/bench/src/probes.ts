/**
 * The well-behaved side of an attack run: two probe clients (one per wire) asking TIME at a
 * steady pace, new clients doing a key exchange now and then, and the server's RSS sampled
 * all along. Every figure is kept per phase (`before`, `during`, `after`), so one run shows
 * what the attack changed.
 */
import { type ConnectOptions, connect, type RttClient } from '@rtt/protocol/node';
import {
  createLatencyHistogram,
  type Histogram,
  type LatencySummary,
  recordMillis,
  summarizeLatency,
} from './latency.ts';
import { residentBytes } from './process-stats.ts';

/** The two wires a probe speaks. */
export const PROBE_WIRES = ['framed', 'seed'] as const;
type ProbeWire = (typeof PROBE_WIRES)[number];

/** Latency figures with how many values they summarize. */
export interface CountedLatency extends LatencySummary {
  count: number;
}

/** What the probes saw in one phase. */
export interface PhaseFigures {
  /** Round trips of the steady TIME requests, per wire. */
  rtt: Record<ProbeWire, CountedLatency>;
  /** Time for a new client to connect and agree keys, per wire. */
  handshake: Record<ProbeWire, CountedLatency>;
  /** Failures the probes saw (failed requests, lost connections, refused key exchanges), by code. */
  errors: Record<string, number>;
}

/** Where the probes connect and how often they ask. */
export interface ProbeOptions {
  host: string;
  port: number;
  /** Milliseconds between two requests of one probe client; default 10. */
  intervalMs?: number | undefined;
  /** Milliseconds between two new clients' key exchanges, per wire; default 500 (0: none). */
  handshakeEveryMs?: number | undefined;
  /** Probe clients per wire; default 1. */
  clients?: number | undefined;
  /** Give up on a key exchange after this long; default 10000. */
  timeoutMs?: number | undefined;
}

class PhaseRecord {
  readonly rtt = { framed: createLatencyHistogram(), seed: createLatencyHistogram() };
  readonly handshake = { framed: createLatencyHistogram(), seed: createLatencyHistogram() };
  readonly errors: Record<string, number> = {};

  count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  figures(): PhaseFigures {
    const counted = (histogram: Histogram): CountedLatency => ({
      ...summarizeLatency(histogram),
      count: histogram.totalCount,
    });
    return {
      rtt: { framed: counted(this.rtt.framed), seed: counted(this.rtt.seed) },
      handshake: { framed: counted(this.handshake.framed), seed: counted(this.handshake.seed) },
      errors: { ...this.errors },
    };
  }
}

const errorCode = (err: unknown) =>
  (err as { code?: unknown } | undefined)?.code === undefined
    ? 'ERROR'
    : String((err as { code: unknown }).code);

/**
 * Probe clients on both wires plus a key-exchange sampler. A probe whose connection is lost
 * counts the error and connects again, so one bad moment does not end the measurement.
 *
 * @example
 * const probes = new Probes({ host: '127.0.0.1', port });
 * await probes.start('before');
 * await sleep(2_000);
 * probes.phase('during');
 * // ... attack ...
 * await probes.stop();
 * probes.figures('during').rtt.framed.p99;
 */
export class Probes {
  readonly #options: { [K in keyof ProbeOptions]-?: Exclude<ProbeOptions[K], undefined> };
  readonly #phases = new Map<string, PhaseRecord>();
  #current: PhaseRecord = new PhaseRecord();
  readonly #clients = new Set<RttClient>();
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  constructor(options: ProbeOptions) {
    this.#options = {
      host: options.host,
      port: options.port,
      intervalMs: options.intervalMs ?? 10,
      handshakeEveryMs: options.handshakeEveryMs ?? 500,
      clients: options.clients ?? 1,
      timeoutMs: options.timeoutMs ?? 10_000,
    };
  }

  /** Connects the probe clients (warmed up, outside any phase) and starts asking. */
  async start(phase: string): Promise<void> {
    const loops: Promise<void>[] = [];
    for (const wire of PROBE_WIRES) {
      for (let i = 0; i < this.#options.clients; i++) loops.push(this.#startProbe(wire));
    }
    await Promise.all(loops);
    this.phase(phase);
    if (this.#options.handshakeEveryMs > 0) {
      for (const wire of PROBE_WIRES) {
        let busy = false;
        this.#timers.push(
          setInterval(() => {
            if (busy || this.#stopped) return;
            busy = true;
            void this.#sampleHandshake(wire).finally(() => {
              busy = false;
            });
          }, this.#options.handshakeEveryMs),
        );
      }
    }
  }

  /** From now on, figures go to `name`. */
  phase(name: string): void {
    let record = this.#phases.get(name);
    if (record === undefined) {
      record = new PhaseRecord();
      this.#phases.set(name, record);
    }
    this.#current = record;
  }

  /** What the probes saw in phase `name` (all zeros for a phase never entered). */
  figures(name: string): PhaseFigures {
    return (this.#phases.get(name) ?? new PhaseRecord()).figures();
  }

  /** Stops asking and closes the probe clients. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    await Promise.all([...this.#clients].map((client) => client.close()));
  }

  #connectOptions(wire: ProbeWire): ConnectOptions {
    return {
      host: this.#options.host,
      port: this.#options.port,
      wire,
      timeoutMs: this.#options.timeoutMs,
    };
  }

  async #startProbe(wire: ProbeWire): Promise<void> {
    let client = await connect({ ...this.#connectOptions(wire), warmUp: true });
    this.#clients.add(client);
    let busy = false;
    const reconnect = async () => {
      this.#clients.delete(client);
      void client.close();
      while (!this.#stopped) {
        try {
          client = await connect(this.#connectOptions(wire));
          this.#clients.add(client);
          return;
        } catch (err) {
          this.#current.count(`${wire} reconnect: ${errorCode(err)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    this.#timers.push(
      setInterval(() => {
        if (busy || this.#stopped) return;
        busy = true;
        // The phase the request was sent in owns its round trip, however late the answer.
        const record = this.#current;
        client.send('TIME', undefined, (error, status, _payload, rttMs) => {
          if (error !== null) {
            if (this.#stopped) return;
            record.count(`${wire}: ${error.code}`);
            void reconnect().finally(() => {
              busy = false;
            });
            return;
          }
          if (status === 0) recordMillis(record.rtt[wire], rttMs);
          else record.count(`${wire}: status ${status}`);
          busy = false;
        });
      }, this.#options.intervalMs),
    );
  }

  async #sampleHandshake(wire: ProbeWire): Promise<void> {
    const record = this.#current;
    const started = performance.now();
    try {
      const client = await connect(this.#connectOptions(wire));
      recordMillis(record.handshake[wire], performance.now() - started);
      await client.close();
    } catch (err) {
      record.count(`${wire} new client: ${errorCode(err)}`);
    }
  }
}

/** One RSS reading: milliseconds since the sampler started, and bytes. */
export interface RssSample {
  atMs: number;
  bytes: number;
}

/**
 * Reads a process's RSS (`/proc/<pid>/status`, every thread) at a fixed pace and keeps every
 * reading, so that the maximum of a phase and the trend of a long run both come from them.
 *
 * @example
 * const rss = new RssSampler(server.pid, 250);
 * // ...
 * rss.stop();
 * rss.maxBetween(0, Infinity);
 */
export class RssSampler {
  readonly samples: RssSample[] = [];
  readonly #pid: number;
  readonly #started = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs: number) {
    this.#pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  /** Milliseconds since the sampler started. */
  now(): number {
    return performance.now() - this.#started;
  }

  /** Takes a reading now; `undefined` when the process is gone (or off Linux). */
  sample(): number | undefined {
    const bytes = residentBytes(this.#pid);
    if (bytes !== undefined) this.samples.push({ atMs: this.now(), bytes });
    return bytes;
  }

  /** The largest reading in `[fromMs, toMs]`, or `undefined` when none fell there. */
  maxBetween(fromMs: number, toMs: number): number | undefined {
    let max: number | undefined;
    for (const { atMs, bytes } of this.samples) {
      if (atMs >= fromMs && atMs <= toMs && (max === undefined || bytes > max)) max = bytes;
    }
    return max;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
