/**
 * The measuring behind `compare`: starts the compared servers as child processes on free
 * ports, runs the bench against them, samples their CPU, memory and threads, holds many
 * connections on a fresh one, and gathers it all into a results file.
 */
import { cpus, platform } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENTRY, runBench, type ServerProcess, startServer } from './child-processes.ts';
import { type CompareCase, TARGETS, type TargetKey } from './compare-cases.ts';
import { holdConnections } from './hold.ts';
import { type LatencySummary, summarizeLatency } from './latency.ts';
import { cpuMicrosPerOp, cpuSeconds, residentBytes, threadCount } from './process-stats.ts';
import {
  type HoldRecord,
  type IdleRecord,
  type ResultsFile,
  type RunRecord,
  summarize,
} from './results.ts';

/** Every server listens here, on a port of its own choosing. */
const HOST = '127.0.0.1';

/** How long each bench run lasts and how much it sends before measuring. */
export interface RunSettings {
  runs: number;
  durationS: number;
  warmup: number;
}

/**
 * The command line that starts a target (on port 0: it prints the port it got).
 *
 * @example
 * serverArgs('t4'); // ['-ip', '127.0.0.1', '-p', '0', '-t', '4']
 */
export function serverArgs(key: TargetKey): string[] {
  return ['-ip', HOST, '-p', '0', ...TARGETS[key].args];
}

/**
 * Starts a target and resolves once it listens.
 *
 * @example
 * const server = await startTarget('baseline');
 * await server.stop();
 */
export function startTarget(key: TargetKey): Promise<ServerProcess> {
  const target = TARGETS[key];
  return startServer(target.label, ENTRY[target.program], serverArgs(key));
}

/**
 * CPU (percent of one core), memory and threads of servers left alone for some seconds.
 *
 * @example
 * const idle = await measureIdle(servers, 10);
 */
export async function measureIdle(
  servers: ReadonlyMap<TargetKey, ServerProcess>,
  seconds: number,
): Promise<IdleRecord[]> {
  const before = new Map([...servers].map(([key, s]) => [key, cpuSeconds(s.pid)]));
  await sleep(seconds * 1000);
  return [...servers].map(([key, s]) => {
    const start = before.get(key);
    const end = cpuSeconds(s.pid);
    return {
      target: key,
      seconds,
      cpu_percent:
        start === undefined || end === undefined
          ? null
          : Math.round(((end - start) / seconds) * 1000) / 10,
      rss_bytes: residentBytes(s.pid) ?? null,
      threads: threadCount(s.pid) ?? null,
    };
  });
}

/**
 * One bench run of a case against a running server, with the server's CPU per request.
 *
 * @example
 * const record = await measureCase(caseById('c50'), 't32', server, 1, { runs: 3, durationS: 2, warmup: 20_000 });
 */
export async function measureCase(
  c: CompareCase,
  key: TargetKey,
  server: ServerProcess,
  round: number,
  settings: RunSettings,
): Promise<RunRecord> {
  const args = [
    '-ip',
    HOST,
    '-p',
    String(server.port),
    '-c',
    String(c.connections),
    '--pipeline',
    String(c.pipeline),
    '--wire',
    c.wire,
    '--command',
    c.command,
    '--duration',
    String(settings.durationS),
    '--warmup',
    String(settings.warmup),
  ];
  const cpuBefore = cpuSeconds(server.pid);
  const { report } = await runBench(args);
  const cpuAfter = cpuSeconds(server.pid);
  const requests = Number(report.requests);
  const served = requests + settings.warmup;
  return {
    case: c.id,
    target: key,
    round,
    connections: c.connections,
    pipeline: c.pipeline,
    wire: c.wire,
    command: c.command,
    requests,
    seconds: Number(report.seconds),
    rps: Number(report.rps),
    errors: Number(report.errors),
    latency_ms: report.latency_ms as LatencySummary,
    server_cpu_us_per_request: cpuMicrosPerOp(cpuBefore, cpuAfter, served),
  };
}

/** How long the held connections sit idle before the second reading of memory. */
export const SETTLE_MS = 5_000;

/**
 * The hold test on a fresh server: `count` connections opened and kept open, then one
 * request on each; its memory before, while holding, after holding them idle for
 * {@link SETTLE_MS}, and after they close.
 *
 * @example
 * const record = await measureHold('t32', 10_000);
 */
export async function measureHold(key: TargetKey, count: number): Promise<HoldRecord> {
  const server = await startTarget(key);
  try {
    // Let start-up garbage settle so that "before" is the idle server.
    await sleep(2_000);
    const rssBefore = residentBytes(server.pid) ?? null;
    let rssHeld: number | null = null;
    let threadsHeld: number | null = null;
    let rssSettled: number | null = null;
    const result = await holdConnections({
      ip: HOST,
      port: server.port,
      count,
      wire: 'framed',
      command: 'PING',
      connectBatch: 200,
      timeoutMs: 30_000,
      onAnswered: async () => {
        rssHeld = residentBytes(server.pid) ?? null;
        threadsHeld = threadCount(server.pid) ?? null;
        // The same connections, idle for a while: what holding them costs once the burst
        // that opened them is over.
        await sleep(SETTLE_MS);
        rssSettled = residentBytes(server.pid) ?? null;
      },
    });
    await sleep(3_000);
    const rssAfter = residentBytes(server.pid) ?? null;
    const perConnection = (rss: number | null) =>
      rssBefore !== null && rss !== null && result.held > 0
        ? Math.round((rss - rssBefore) / result.held)
        : null;
    return {
      target: key,
      count,
      held: result.held,
      answered: result.answered,
      errors: result.errors,
      connect_seconds: Math.round(result.connectSeconds * 1000) / 1000,
      answer_seconds: Math.round(result.seconds * 1000) / 1000,
      latency_ms: summarizeLatency(result.histogram),
      failures: result.failures,
      rss_before_bytes: rssBefore,
      rss_held_bytes: rssHeld,
      rss_after_bytes: rssAfter,
      bytes_per_connection: perConnection(rssHeld),
      threads_held: threadsHeld,
      rss_settled_bytes: rssSettled,
      bytes_per_connection_settled: perConnection(rssSettled),
    };
  } finally {
    await server.stop();
  }
}

/**
 * The results file of a finished compare: this machine, the settings, every target's name,
 * the measurements and the medians of the runs.
 *
 * @example
 * writeFileSync(out, formatResultsFile(collectResults(settings, { idle, runs, hold })));
 */
export function collectResults(
  settings: RunSettings,
  measured: { idle: IdleRecord[]; runs: RunRecord[]; hold: HoldRecord[] },
  generated = new Date(),
): ResultsFile {
  return {
    generated: generated.toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: platform(),
    },
    settings: {
      runs: settings.runs,
      duration_s: settings.durationS,
      warmup: settings.warmup,
      // measureCase leaves the bench at its default of one load thread.
      load_threads: 1,
    },
    targets: Object.fromEntries(Object.entries(TARGETS).map(([key, t]) => [key, t.label])),
    idle: measured.idle,
    runs: measured.runs,
    summary: summarize(measured.runs),
    hold: measured.hold,
  };
}
